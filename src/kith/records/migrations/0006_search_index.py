"""The search index: FTS5 tables kept by triggers (SQLite), pg_trgm and full-text GIN
indexes (PostgreSQL). See kith.records.search_index."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from kith.records.search_index import ensure_search_index

    ensure_search_index(schema_editor.connection, rebuild=True)


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from kith.records.search_index import drop_search_index

    drop_search_index(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0005_clock_defaults"),
        ("interactions", "0004_outcome_types"),
    ]

    operations = [migrations.RunPython(create, drop)]
