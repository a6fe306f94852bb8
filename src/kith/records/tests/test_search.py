"""The search index: prefix, typo, phone digits, domain, subject; ranking; privacy; upkeep."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from kith import testing
from kith.bulk.services import load
from kith.core.viewer import SYSTEM, Viewer
from kith.dedupe.services import merge_records, unmerge
from kith.interactions.services import edit_interaction
from kith.records import search
from kith.records.models import Record
from kith.records.search_index import ensure_search_index
from kith.records.selectors import list_records, search_records
from kith.records.services import add_person, delete_record, restore_record, update_record


def _names(text: str, viewer: Viewer = SYSTEM, limit: int = 8) -> list[str]:
    return [r.name for r in search_records(viewer, text, limit=limit)]


def _people() -> dict[str, Record]:
    testing.make_home()
    acme = testing.make_org("Acme Robotics", domains=("acme-robotics.test",))
    return {
        "acme": acme,
        "margaret": testing.make_person("Margaret Hale", email="mh@north.test", org=acme),
        "mark": testing.make_person("Mark Ode"),
        "omar": testing.make_person("Omar Nasri"),
        "ann": testing.make_person("Ann Marsh"),
        "mar": testing.make_person("Mar"),
        "pat": add_person(name="Pat Quinn", phones=["+1 (415) 555-0199"]),
    }


def test_exact_name_first_then_prefix_then_word_then_contains() -> None:
    _people()
    assert _names("mar") == ["Mar", "Margaret Hale", "Mark Ode", "Ann Marsh", "Omar Nasri"]


def test_prefix_of_a_name_and_of_a_later_word() -> None:
    _people()
    assert _names("marga") == ["Margaret Hale"]
    assert _names("hal") == ["Margaret Hale"]
    assert _names("nasr") == ["Omar Nasri"]


def test_a_typo_still_finds_the_name_and_nonsense_finds_nothing() -> None:
    _people()
    assert _names("margret") == ["Margaret Hale"]
    assert _names("nasry") == ["Omar Nasri"]
    assert _names("margret hael") == ["Margaret Hale"]
    assert _names("zqxwv") == []
    # lists filter by what the name or contacts contain, typos are the ranked search's
    assert list_records(SYSTEM, search="margret") == []


def test_phone_digits_domain_and_email() -> None:
    data = _people()
    for text in ("415 555", "(415) 555-01", "4155550199", "+1 415"):
        assert _names(text) == ["Pat Quinn"], text
        assert [r["id"] for r in list_records(SYSTEM, search=text)] == [data["pat"].id]
    assert _names("acme-robotics.test") == ["Acme Robotics"]
    assert _names("mh@north") == ["Margaret Hale"]
    assert _names("north.test") == ["Margaret Hale"]


def test_interaction_subject_finds_its_people_after_direct_matches() -> None:
    data = _people()
    testing.log("meeting", data["mark"], data["omar"], subject="Quarterly renewal review")
    testing.log("call", data["ann"], subject="Renewal pricing")
    assert set(_names("renewal")) == {"Mark Ode", "Omar Nasri", "Ann Marsh"}
    assert _names("renewal pric") == ["Ann Marsh"]
    assert set(_names("quart renew")) == {"Mark Ode", "Omar Nasri"}


def test_a_corrected_or_deleted_subject_is_searched_as_it_is_now() -> None:
    data = _people()
    call = testing.log("call", data["ann"], subject="Onboarding kickoff")
    assert _names("kickoff") == ["Ann Marsh"]
    edit_interaction(interaction_id=call.id, values={"subject": "Contract signature"})
    assert _names("kickoff") == [] and _names("signature") == ["Ann Marsh"]


def test_private_records_never_match_for_who_cannot_see_them() -> None:
    users = get_user_model().objects
    owner, other = users.create_user(username="o@our.test"), users.create_user(username="x@t")
    data = _people()
    secret = add_person(name="Marvin Secret", emails=["marvin@hidden.test"])
    Record.objects.filter(pk=secret.pk).update(private=True, owner_id=owner.pk)
    testing.log("call", secret, subject="Secret merger talks")
    for text in ("marvin", "marvn secret", "hidden.test", "merger", "mar"):
        assert "Marvin Secret" not in _names(text, Viewer(user_id=other.pk), limit=50), text
        assert all(
            r["name"] != "Marvin Secret"
            for r in list_records(Viewer(user_id=other.pk), search=text)
        )
    assert "Marvin Secret" in _names("marvin", Viewer(user_id=owner.pk))
    assert _names("merger", Viewer(user_id=owner.pk)) == ["Marvin Secret"]
    assert data["mar"].name in _names("mar", Viewer(user_id=other.pk))


def test_the_index_follows_renames_contacts_deletes_merges_and_bulk_loads() -> None:
    data = _people()
    update_record(ref=data["mark"].id, values={"name": "Zebedee Ode"})
    assert "Mark Ode" not in _names("mark") and _names("zebede") == ["Zebedee Ode"]
    update_record(ref=data["omar"].id, values={"email": "omar@desert.test"})
    assert _names("desert.test") == ["Omar Nasri"]
    delete_record(ref=data["omar"].id)
    assert _names("desert.test") == []
    restore_record(ref=data["omar"].id)
    assert _names("desert.test") == ["Omar Nasri"]
    twin = testing.make_person("Omar N", email="on@oasis.test")
    merge_records(keep=data["omar"].id, other=twin.id)
    assert _names("oasis.test") == ["Omar Nasri"]  # the contact moved with the merge
    unmerge(ref=twin.id)
    assert _names("oasis.test") == ["Omar N"]
    load(
        records=[("p_bulk1", "person", "Bulky Loaded", {})],
        contacts=[("p_bulk1", "email", "bulk@loaded.test", "bulk@loaded.test", True)],
    )
    assert _names("bulky") == ["Bulky Loaded"] and _names("loaded.test") == ["Bulky Loaded"]


def test_a_lost_trigger_is_put_back_and_the_index_refilled() -> None:
    _people()
    if connection.vendor != "sqlite":
        ensure_search_index()  # PostgreSQL: the indexes exist; creating again is harmless
        assert _names("margret") == ["Margaret Hale"]
        return
    with connection.cursor() as cur:
        cur.execute("DROP TRIGGER records_name_fts_ai")
    add_person(name="Unindexed Person")
    # what a table rebuild by a migration leaves: the index misses the new name
    assert list_records(SYSTEM, search="ndexed pers") == []
    call_command("migrate", verbosity=0)  # post_migrate puts the index right
    assert [r["name"] for r in list_records(SYSTEM, search="ndexed pers")] == ["Unindexed Person"]
    add_person(name="Indexed Again")
    assert _names("indexed again") == ["Indexed Again"]


def test_a_common_term_read_in_order_finds_what_the_index_finds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _people()
    add_person(name="Marta Phone", phones=["+1 415 555 0100"])
    terms = ("mar", "north.test", "415 555", "acme", "ode", "zz")
    by_index = {t: [r["id"] for r in list_records(SYSTEM, search=t)] for t in terms}
    ranked = {t: _names(t) for t in terms}
    monkeypatch.setattr(search, "DENSE", 1)  # every term now counts as common
    assert {t: [r["id"] for r in list_records(SYSTEM, search=t)] for t in terms} == by_index
    assert {t: _names(t) for t in terms} == ranked
    assert by_index["415 555"] and by_index["mar"] and by_index["north.test"]
