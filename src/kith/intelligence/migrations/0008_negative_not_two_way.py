# A negative interaction (sentiment < 0) no longer counts as two-way engagement in the pair
# table (issue 11: a negative call raised health): rebuild the table of a workspace that has
# one, with the new definition, and mark the kept scores stale so the next rescore follows.

from django.db import migrations


def forwards(apps, schema_editor):
    IntelState = apps.get_model("intelligence", "IntelState")
    db = schema_editor.connection.alias
    if not IntelState.objects.using(db).filter(key="pairstats_built", value="1").exists():
        return
    from kith.intelligence.services import rebuild_pairstats

    rebuild_pairstats()
    IntelState.objects.using(db).filter(key="scores_day").update(value="")


class Migration(migrations.Migration):

    dependencies = [
        ("intelligence", "0007_pairstat_covering"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
