# The data and history versions move to core's atomic counters (kith.core.counters), with
# the values they had; and the pair table, which the first read used to build, is built
# here for a workspace that has interactions but never built it (reads never write now).

from django.db import migrations

KEYS = ("data_version", "history_version")


def forwards(apps, schema_editor):
    IntelState = apps.get_model("intelligence", "IntelState")
    Counter = apps.get_model("core", "Counter")
    Participant = apps.get_model("interactions", "Participant")
    db = schema_editor.connection.alias
    for state in IntelState.objects.using(db).filter(key__in=KEYS):
        n = int(state.value or "0") if (state.value or "0").isdigit() else 0
        Counter.objects.using(db).update_or_create(name=state.key, defaults={"n": n})
    IntelState.objects.using(db).filter(key__in=KEYS).delete()
    built = IntelState.objects.using(db).filter(key="pairstats_built", value="1").exists()
    if not built and Participant.objects.using(db).exists():
        from kith.intelligence.services import rebuild_pairstats

        rebuild_pairstats()


def backwards(apps, schema_editor):
    IntelState = apps.get_model("intelligence", "IntelState")
    Counter = apps.get_model("core", "Counter")
    db = schema_editor.connection.alias
    for counter in Counter.objects.using(db).filter(name__in=KEYS):
        IntelState.objects.using(db).update_or_create(
            key=counter.name, defaults={"value": str(counter.n)}
        )


class Migration(migrations.Migration):

    dependencies = [
        ("intelligence", "0001_initial"),
        ("core", "0005_counter"),
        ("interactions", "0002_clock_defaults"),
        ("relationships", "0003_clock_defaults"),
        ("records", "0005_clock_defaults"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
