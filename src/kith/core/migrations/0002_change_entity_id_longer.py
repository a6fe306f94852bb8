"""History entry ids up to 100 characters: ``type:<40>`` and ``reltype:<60>`` did not fit 40.

SQLite does not enforce VARCHAR lengths, so only PostgreSQL's column changes; a SQLite
workspace is not rebuilt table by table for a length it never checks.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models


def widen(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'ALTER TABLE "core_change" ALTER COLUMN "entity_id" TYPE varchar(100)'
        )


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="change", name="entity_id", field=models.CharField(max_length=100)
                )
            ],
            database_operations=[migrations.RunPython(widen, migrations.RunPython.noop)],
        )
    ]
