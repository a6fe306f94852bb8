# ImportJob moved here from the web app: its table (web_importjob) and rows are kept,
# so this only tells Django's state that the model now lives in imports.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("web", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ImportJob",
                    fields=[
                        ("id", models.CharField(max_length=32, primary_key=True, serialize=False)),
                        ("filename", models.CharField(max_length=255)),
                        ("content", models.BinaryField()),
                        ("fmt", models.CharField(blank=True, default="", max_length=32)),
                        ("options", models.JSONField(default=dict)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("preview", "Preview"),
                                    ("running", "Running"),
                                    ("done", "Done"),
                                    ("failed", "Failed"),
                                ],
                                default="preview",
                                max_length=16,
                            ),
                        ),
                        ("done", models.IntegerField(default=0)),
                        ("total", models.IntegerField(null=True)),
                        ("report", models.JSONField(default=dict)),
                        ("rejects", models.TextField(blank=True, default="")),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={"db_table": "web_importjob"},
                ),
            ],
            database_operations=[],
        ),
    ]
