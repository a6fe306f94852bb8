# The audit log moves to core (kith.core.models.AuditEvent, same table): state only, so
# the table accounts_auditevent and its rows stay.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_clock_defaults"),
        ("core", "0004_auditevent_moved_from_accounts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEvent")],
            database_operations=[],
        ),
    ]
