# SavedView moved here from the web app: its table (web_savedview), constraint and rows are
# kept, so this only tells Django's state that the model now lives in lists.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("web", "0002_importjob_moved_to_imports"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SavedView",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=80)),
                        ("type_key", models.CharField(max_length=64)),
                        ("query", models.JSONField(default=dict)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "web_savedview",
                        "ordering": ["name"],
                        "constraints": [models.UniqueConstraint(fields=("user", "type_key", "name"), name="web_view_unique")],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
