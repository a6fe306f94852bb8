from django.db import migrations

P, O = ["person"], ["organization"]
# key, inverse (None = symmetric), from types, to types, rollup
BUILTIN = [
    ("works_at", "employs", P, O, True),
    ("reports_to", "manages", P, P, False),
    ("colleague_of", None, P, P, False),
    ("knows", None, P, P, False),
    ("friend_of", None, P, P, False),
    ("spouse_of", None, P, P, False),
    ("parent_of", "child_of", P, P, False),
    ("referred", "referred_by", [], [], False),
    ("advisor_to", "advised_by", P, [], False),
    ("board_member_of", "has_board_member", P, O, False),
    ("investor_in", "backed_by", [], O, False),
    ("subsidiary_of", "parent_of", O, O, False),
    ("customer_of", "supplier_of", [], [], False),
    ("partner_of", None, [], [], False),
]


def create(apps, schema_editor):
    RelationshipType = apps.get_model("relationships", "RelationshipType")
    for key, inverse, froms, tos, rollup in BUILTIN:
        RelationshipType.objects.get_or_create(
            key=key,
            defaults={
                "inverse": inverse or "",
                "symmetric": inverse is None,
                "from_types": froms,
                "to_types": tos,
                "rollup": rollup,
                "builtin": True,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("relationships", "0001_initial"), ("records", "0002_builtin_types")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
