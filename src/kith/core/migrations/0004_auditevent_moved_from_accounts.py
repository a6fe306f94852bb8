# The audit log moves from accounts to core. State only: the table accounts_auditevent,
# its rows, its id sequence and its indexes stay exactly as they are.

from django.db import migrations, models

import kith.core.clock


def move_content_type(apps, schema_editor):
    """Keep the content type (and any permissions on it): relabel it accounts -> core."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label="core", model="auditevent").exists():
        ContentType.objects.using(db).filter(app_label="accounts", model="auditevent").update(
            app_label="core"
        )


def back_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label="accounts", model="auditevent").exists():
        ContentType.objects.using(db).filter(app_label="core", model="auditevent").update(
            app_label="accounts"
        )


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0003_clock_defaults"),
        ("accounts", "0002_clock_defaults"),  # the table is created there
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("at", models.DateTimeField(db_index=True, default=kith.core.clock.now)),
                        ("actor", models.CharField(blank=True, default="", max_length=254)),
                        ("action", models.CharField(max_length=40)),
                        ("target", models.CharField(blank=True, default="", max_length=254)),
                        ("ip", models.CharField(blank=True, default="", max_length=64)),
                        ("detail", models.JSONField(blank=True, default=dict)),
                    ],
                    options={
                        "db_table": "accounts_auditevent",
                        "ordering": ["-at", "-id"],
                        "indexes": [
                            models.Index(fields=["action", "target", "at"], name="audit_action_target")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, back_content_type),
    ]
