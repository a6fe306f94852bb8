"""Key initiatives get a closure note (a retrospective), as goals have, for
``kith initiative done|cancel --note``."""

from django.db import migrations


def create(apps, schema_editor):
    RecordType = apps.get_model("records", "RecordType")
    FieldDef = apps.get_model("records", "FieldDef")
    rtype = RecordType.objects.filter(key="initiative").first()
    if rtype is None:
        return
    FieldDef.objects.get_or_create(
        record_type=rtype,
        name="closure_note",
        defaults={"kind": "text", "choices": [], "builtin": True},
    )


def remove(apps, schema_editor):
    FieldDef = apps.get_model("records", "FieldDef")
    FieldDef.objects.filter(record_type__key="initiative", name="closure_note").delete()


class Migration(migrations.Migration):
    dependencies = [("plans", "0004_measure_milestones")]
    operations = [migrations.RunPython(create, remove)]
