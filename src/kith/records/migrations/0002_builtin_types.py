from django.db import migrations

BUILTIN = {
    "person": (
        "Person",
        "per",
        [
            ("title", "text"),
            ("birthday", "date"),
            ("location", "text"),
            ("website", "url"),
            ("linkedin", "url"),
            ("notes", "text"),
        ],
    ),
    "organization": (
        "Organization",
        "org",
        [
            ("industry", "text"),
            ("size", "number"),
            ("location", "text"),
            ("website", "url"),
            ("notes", "text"),
        ],
    ),
}


def create(apps, schema_editor):
    RecordType = apps.get_model("records", "RecordType")
    FieldDef = apps.get_model("records", "FieldDef")
    for key, (label, prefix, fields) in BUILTIN.items():
        rtype, _ = RecordType.objects.get_or_create(
            key=key, defaults={"label": label, "id_prefix": prefix, "builtin": True}
        )
        for name, kind in fields:
            FieldDef.objects.get_or_create(
                record_type=rtype, name=name, defaults={"kind": kind, "builtin": True}
            )


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
