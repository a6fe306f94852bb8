# SavedView now belongs to kith.lists (lists.0001_initial); its table stays as it is.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("web", "0002_importjob_moved_to_imports"),
        ("lists", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="SavedView")],
            database_operations=[],
        ),
    ]
