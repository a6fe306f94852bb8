"""Records: typed fields, contact points, references, history, soft delete."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from kith import testing
from kith.accounts.services import add_owned_record
from kith.core.context import acting_as
from kith.core.errors import Ambiguous, Conflict, NotFound, ValidationError
from kith.core.models import Change
from kith.core.viewer import SYSTEM
from kith.records import selectors, services
from kith.records.models import ContactPoint, Record
from kith.relationships.selectors import record_history


def test_person_keeps_several_emails_and_phones_normalised() -> None:
    jane = services.add_person(
        name="  Jane   Doe ",
        emails=["Jane@Example.COM", "jd@home.test"],
        phones=["+44 20 7946 0958", "(202) 555-0143"],
    )
    view = selectors.record_view(jane)
    assert view["name"] == "Jane Doe"
    assert view["emails"] == ["jane@example.com", "jd@home.test"]
    assert view["phones"] == ["+44 20 7946 0958", "(202) 555-0143"]
    normalized = set(jane.contacts.filter(kind="phone").values_list("normalized", flat=True))
    assert normalized == {"+442079460958", "+12025550143"}


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"emails": ["not-an-email"]}, "email: 'not-an-email' is not a valid email"),
        ({"phones": ["call me maybe"]}, "phone: 'call me maybe' is not a phone number"),
        ({"name": "   "}, "name: a name is required"),
        ({"fields": {"birthday": "1990-02-30"}}, "birthday: '1990-02-30' is not a valid date"),
        ({"fields": {"shoe": "42"}}, "person has no field 'shoe'"),
    ],
)
def test_bad_person_input_is_rejected_and_nothing_is_written(
    kwargs: dict[str, object], fragment: str
) -> None:
    args: dict[str, object] = {"name": "Jane"} | kwargs
    with pytest.raises(ValidationError) as err:
        services.add_person(**args)  # type: ignore[arg-type]
    assert fragment in err.value.message
    assert Record.objects.count() == 0


def test_custom_type_fields_are_typed_and_validated() -> None:
    services.define_type(
        key="vendor",
        fields=[
            "tier:choice:gold|silver",
            "spend:number",
            "renewal:date",
            "portal:url",
            "active:bool",
            "contact:email",
            "code:text!",
        ],
    )
    acme = services.add_record(
        type_key="vendor",
        name="Acme Supplies",
        fields={
            "tier": "GOLD",
            "spend": "1200.50",
            "renewal": "2027-01-31",
            "portal": "acme.test/portal",
            "active": "yes",
            "contact": "Ops@Acme.test",
            "code": "V-1",
        },
    )
    assert acme.fields == {
        "tier": "gold",
        "spend": 1200.5,
        "renewal": "2027-01-31",
        "portal": "https://acme.test/portal",
        "active": True,
        "contact": "ops@acme.test",
        "code": "V-1",
    }
    assert acme.id.startswith("ven_")
    bad = {
        "tier": "bronze",
        "spend": "lots",
        "renewal": "31/01/2027",
        "active": "maybe",
        "contact": "nope",
        "portal": "http://",
    }
    for key, value in bad.items():
        with pytest.raises(ValidationError) as err:
            services.add_record(type_key="vendor", name="X", fields={"code": "1", key: value})
        assert err.value.field == key
        assert repr(value) in err.value.message
    with pytest.raises(ValidationError, match="code: is required"):
        services.add_record(type_key="vendor", name="No code")
    assert Record.objects.filter(type_id="vendor").count() == 1


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("tier", "is not NAME:KIND"),
        ("tier:colour", "'colour' in 'tier:colour' is not a field kind"),
        ("tier:choice", "needs its options"),
        ("size:number:1|2", "only choice fields take options"),
        ("9lives:text", "must start with a letter"),
        ("isnull:bool", "'isnull' cannot name a field: it reads as filter syntax"),
        ("contains:text", "reads as filter syntax"),
        ("a__b:text", "reads as filter syntax"),
        ("year:number", "try a longer name such as year_value"),
        ("tier_:text", "reads as filter syntax"),
    ],
)
def test_bad_field_specs_are_rejected(spec: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        services.define_type(key="vendor", fields=[spec])
    assert not selectors.TYPE_ALIASES.get("vendor")
    with pytest.raises(NotFound):
        selectors.get_type("vendor")


def test_edits_keep_field_level_history_with_actor() -> None:
    jane = testing.make_person("Jane Doe", email="jane@acme.test")
    with acting_as("alice"):
        services.update_record(ref=jane.id, values={"title": "CTO", "email": "jd@acme.test"})
    with acting_as("bob"):
        services.update_record(ref="jd@acme.test", values={"title": "CEO", "name": "Jane Roe"})
    rows = record_history(SYSTEM, Record.objects.get(pk=jane.id))[0]
    changes = [
        (r["actor"], r["field"], r["old"], r["new"]) for r in rows if r["action"] == "update"
    ]
    assert ("alice", "fields.title", None, "CTO") in changes
    assert ("alice", "emails", ["jane@acme.test"], ["jd@acme.test", "jane@acme.test"]) in changes
    assert ("bob", "fields.title", "CTO", "CEO") in changes
    assert ("bob", "name", "Jane Doe", "Jane Roe") in changes
    assert Record.objects.get(pk=jane.id).version == 3


def test_stale_version_is_a_conflict_and_changes_nothing() -> None:
    jane = testing.make_person("Jane")
    services.update_record(ref=jane.id, values={"title": "CTO"}, expected_version=1)
    with pytest.raises(Conflict, match="at version 2, not 1"):
        services.update_record(ref=jane.id, values={"title": "CEO"}, expected_version=1)
    assert Record.objects.get(pk=jane.id).fields["title"] == "CTO"


def test_failed_edit_changes_nothing() -> None:
    jane = testing.make_person("Jane", title="CTO")
    with pytest.raises(ValidationError):
        services.update_record(ref=jane.id, values={"title": "CEO", "birthday": "soon"})
    fresh = Record.objects.get(pk=jane.id)
    assert (fresh.fields, fresh.version) == ({"title": "CTO"}, 1)


def test_delete_is_soft_and_restorable() -> None:
    jane = testing.make_person("Jane Doe", email="jane@acme.test")
    services.delete_record(ref="Jane Doe")
    assert selectors.list_records(SYSTEM) == []
    with pytest.raises(NotFound):
        selectors.resolve(SYSTEM, "jane@acme.test")
    assert [r["id"] for r in selectors.list_records(SYSTEM, include_deleted=True)] == [jane.id]
    services.restore_record(ref=jane.id)
    assert selectors.resolve(SYSTEM, "jane@acme.test").id == jane.id
    with pytest.raises(ValidationError, match="is not deleted"):
        services.restore_record(ref=jane.id)
    actions = [r["action"] for r in record_history(SYSTEM, jane)[0]]
    assert actions == ["create", "delete", "restore"]


def test_references_by_id_email_name_and_ambiguity() -> None:
    a = testing.make_person("Sam Lee", email="sam@one.test")
    b = testing.make_person("Sam Lee", email="sam@two.test")
    assert selectors.resolve(SYSTEM, a.id).id == a.id
    assert selectors.resolve(SYSTEM, "SAM@two.test").id == b.id
    with pytest.raises(Ambiguous) as err:
        selectors.resolve(SYSTEM, "sam lee")
    assert a.id in err.value.message and b.id in err.value.message
    assert len(err.value.candidates) == 2
    with pytest.raises(NotFound, match="no record matches 'Nobody'"):
        selectors.resolve(SYSTEM, "Nobody")


def test_list_filters_by_type_alias_and_search() -> None:
    acme = testing.make_org("Acme Corp", domains=("acme.test",))
    testing.make_person("Jane Doe", email="jane@acme.test")
    testing.make_person("John Smith", email="john@globex.test")
    assert [r["id"] for r in selectors.list_records(SYSTEM, type_key="org")] == [acme.id]
    assert [r["name"] for r in selectors.list_records(SYSTEM, search="ACME")] == [
        "Acme Corp",
        "Jane Doe",
    ]
    with pytest.raises(NotFound, match="unknown record type 'planet'"):
        selectors.list_records(SYSTEM, type_key="planet")


def test_list_has_no_n_plus_one(django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for i in range(30):
        testing.make_person(f"Person {i}", email=f"p{i}@x.test")
    with django_assert_max_num_queries(3):
        rows = selectors.list_records(SYSTEM, limit=30)
    assert len(rows) == 30 and all(r["email"] for r in rows)


def test_init_sets_home_organisation_and_domains() -> None:
    result = services.init_workspace(home="Our Co", domains=["our.test", "our.example"])
    assert result["home"]["name"] == "Our Co"
    assert sorted(result["domains"]) == ["our.example", "our.test"]
    home = selectors.home_org()
    assert home is not None and home.type_id == "organization"
    again = services.init_workspace(home="Our Co", domains=["our.test"])
    assert again["home"]["id"] == home.id
    with pytest.raises(ValidationError, match="not a web domain"):
        services.init_workspace(home="Our Co", domains=["not a domain"])


def test_restore_of_a_path_that_is_no_backup_says_so(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    not_backup = tmp_path / "contacts.csv"
    not_backup.write_text("Name\nAna\n")
    code, _out, err = cli("restore", str(not_backup))
    assert code == 1 and "that file is not a Kith backup" in err and err.count("\n") == 1
    code, _out, err = cli("restore", str(tmp_path / "gone.bak"))
    assert code == 1 and "there is no backup file at that path" in err
    code, _out, err = cli("restore", "Nobody")
    assert code == 1 and err == "error: ref: no record matches 'Nobody'\n"


def test_a_too_long_type_name_says_how_long_it_may_be() -> None:
    with pytest.raises(
        ValidationError, match=r"'v{41}' must start with a letter .*\(at most 40 characters\)"
    ):
        services.define_type(key="v" * 41, fields=[])
    services.define_type(key="v" * 40, fields=[])


def test_nul_characters_are_refused_alike_on_both_databases() -> None:
    # PostgreSQL cannot store them; SQLite could, and its backup would not restore there
    before = Record.objects.count()
    with pytest.raises(ValidationError, match="name: 'Ann\\\\x00Lee' contains a NUL character"):
        services.add_person(name="Ann\x00Lee")
    with pytest.raises(ValidationError, match=r"notes: .* contains a NUL character"):
        services.add_person(name="Ann Lee", fields={"notes": "a\x00b"})
    assert Record.objects.count() == before
    assert services.add_person(name="Ann Lee", fields={"notes": "a b"}).fields["notes"] == "a b"


def test_an_email_another_live_record_has_is_refused_and_names_that_record(cli) -> None:  # type: ignore[no-untyped-def]

    jane = testing.make_person("Jane Doe", email="jane@acme.test")
    before = (Record.objects.count(), ContactPoint.objects.count())
    taken = f"email: jane@acme.test is already Jane Doe's ({jane.id})"
    with pytest.raises(Conflict, match=re.escape(taken)):
        services.add_person(name="Janet Doe", emails=["x@other.test", "JANE@acme.test"])
    with pytest.raises(Conflict, match=re.escape(taken)):
        services.add_record(type_key="organization", name="Acme", emails=["jane@acme.test"])
    bob = testing.make_person("Bob", email="bob@acme.test")
    before = (Record.objects.count(), ContactPoint.objects.count())
    with pytest.raises(Conflict, match=re.escape(taken)):
        services.update_record(ref=bob.id, values={"email": "Jane@Acme.test"})
    assert (Record.objects.count(), ContactPoint.objects.count()) == before
    code, out, err = cli("person", "add", "Janet Doe", "--email", "jane@acme.test")
    assert (code, out) == (1, "")
    assert err == f"error: {taken}; merge the two or remove it there first\n"
    assert (Record.objects.count(), ContactPoint.objects.count()) == before
    assert selectors.resolve(SYSTEM, "jane@acme.test").id == jane.id  # still one record
    # one's own email again is no clash; nor is the email of a deleted record
    services.update_record(ref=jane.id, values={"email": "jane@acme.test"})
    services.delete_record(ref=bob.id)
    assert services.add_person(name="Bob Two", emails=["bob@acme.test"]).name == "Bob Two"


def test_a_private_holder_of_the_email_blocks_only_those_who_see_it() -> None:
    users = get_user_model().objects
    owner, other = users.create_user(username="own@our.test"), users.create_user(username="o@x")
    sam = add_owned_record(
        user=owner, private=True, type_key="person", name="Secret Sam", emails=["sam@x.test"]
    )
    with pytest.raises(Conflict) as err:  # the system, like the owner, sees the holder
        services.add_person(name="Other", emails=["sam@x.test"])
    assert sam.id in err.value.message
    with pytest.raises(Conflict):
        add_owned_record(user=owner, type_key="person", name="Own", emails=["sam@x.test"])
    made = add_owned_record(user=other, type_key="person", name="Other", emails=["sam@x.test"])
    assert made.id != sam.id


def test_init_refuses_another_home_unless_asked_to_change_it(cli) -> None:  # type: ignore[no-untyped-def]

    home = services.add_organization(name="Our Co")
    assert cli("init", "--home", "Our Co", "--domain", "our.test")[0] == 0
    assert cli("init")[0] == 0 and cli("init", "--home", "our co")[0] == 0  # idempotent
    assert selectors.home_org() == home
    services.add_organization(name="Rival")
    orgs, changes = Record.objects.count(), Change.objects.count()
    for other in ("New Co", "Our Co Ltd"):
        code, out, err = cli("init", "--home", other)
        assert (code, out) == (1, "")
        assert err == (
            f"error: home: the home organisation is already Our Co ({home.id}), not "
            f"'{other}'; to switch it on purpose run kith init --home '{other}' --change-home\n"
        )
    assert cli("init", "--home", "Rival")[0] == 1
    assert (Record.objects.count(), Change.objects.count()) == (orgs, changes)
    assert selectors.home_org() == home
    code, _, err = cli("init", "--change-home")
    assert code == 1 and err == "error: change_home: --change-home needs --home NAME\n"
    code, out, _ = cli("init", "--home", "New Co", "--change-home", "--json")
    assert code == 0
    new = selectors.home_org()
    assert new is not None and new.name == "New Co" and new.id != home.id
    # once the home is gone (deleted), a new one may be named without the flag
    services.delete_record(ref=new.id)
    assert cli("init", "--home", "Our Co")[0] == 0 and selectors.home_org() == home
