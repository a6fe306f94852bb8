from django.db import migrations

# record types: key -> (label, id prefix, [(field, kind, choices)])
TYPES = {
    "deal": (
        "Deal",
        "del",
        [
            ("amount", "number", []),
            ("currency", "text", []),
            ("close", "date", []),
            ("owner", "text", []),
            ("source", "text", []),
            ("pipeline", "text", []),
            ("stage", "text", []),
            ("status", "choice", ["open", "won", "lost"]),
            ("closed_on", "date", []),
            ("lost_reason", "text", []),
        ],
    ),
}
# relationship types: key, inverse, from types, to types
RELS = [
    ("deal_for", "has_deal", ["deal"], []),
    ("on_deal", "deal_contact", ["person"], ["deal"]),
]


def create(apps, schema_editor):
    RecordType = apps.get_model("records", "RecordType")
    FieldDef = apps.get_model("records", "FieldDef")
    RelationshipType = apps.get_model("relationships", "RelationshipType")
    for key, (label, prefix, fields) in TYPES.items():
        rtype, _ = RecordType.objects.get_or_create(
            key=key, defaults={"label": label, "id_prefix": prefix, "builtin": True}
        )
        for name, kind, choices in fields:
            FieldDef.objects.get_or_create(
                record_type=rtype,
                name=name,
                defaults={"kind": kind, "choices": choices, "builtin": True},
            )
    for key, inverse, froms, tos in RELS:
        RelationshipType.objects.get_or_create(
            key=key,
            defaults={
                "inverse": inverse,
                "symmetric": False,
                "from_types": froms,
                "to_types": tos,
                "rollup": False,
                "builtin": True,
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("pipelines", "0001_initial"),
        ("records", "0002_builtin_types"),
        ("relationships", "0002_builtin_types"),
    ]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
