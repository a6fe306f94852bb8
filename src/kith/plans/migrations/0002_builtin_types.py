from django.db import migrations

# record types: key -> (label, id prefix, [(field, kind, choices)])
TYPES = {
    "plan": (
        "Plan",
        "pln",
        [
            ("status", "choice", ["draft", "active", "closed"]),
            ("owner", "text", []),
            ("start", "date", []),
            ("end", "date", []),
            ("review_every", "number", []),
            ("desired_outcome", "text", []),
            ("priorities", "text", []),
            ("risks", "text", []),
            ("competitors", "text", []),
        ],
    ),
    "goal": (
        "Goal",
        "gol",
        [
            ("due", "date", []),
            ("priority", "choice", ["low", "normal", "high"]),
            ("status", "choice", ["open", "closed"]),
            ("closure", "choice", ["achieved", "partially_achieved", "missed", "cancelled"]),
            ("closure_note", "text", []),
            ("owner", "text", []),
        ],
    ),
    "initiative": (
        "Initiative",
        "ini",
        [
            ("owner", "text", []),
            ("their_owner", "text", []),
            ("due", "date", []),
            ("state", "choice", ["planned", "in_progress", "done", "cancelled"]),
            ("closure", "choice", ["achieved", "partially_achieved", "missed", "cancelled"]),
        ],
    ),
}
# relationship types: key, inverse, from types, to types
RELS = [
    ("plan_for", "has_plan", ["plan"], []),
    ("goal_of", "has_goal", ["goal"], ["plan"]),
    ("advances", "advanced_by", ["initiative"], ["goal"]),
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
        ("plans", "0001_initial"),
        ("records", "0002_builtin_types"),
        ("relationships", "0002_builtin_types"),
    ]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
