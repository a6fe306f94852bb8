"""Kept duplicate pairs: after every kind of change they equal a rebuild from scratch."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from kith.bulk.services import load
from kith.core.viewer import SYSTEM, Viewer
from kith.core.worker import run_pending
from kith.dedupe import kept as kept_module
from kith.dedupe.blocking import MAX_BLOCK
from kith.dedupe.kept import expected, kept, rebuild
from kith.dedupe.selectors import find_duplicates
from kith.dedupe.services import merge_records, unmerge
from kith.records.models import ContactPoint, Record
from kith.records.services import (
    add_organization,
    add_person,
    delete_record,
    restore_record,
    update_record,
)
from kith.relationships.services import end_relationship
from kith.testing import load_contact, make_org, make_person, relate


def _same() -> set[tuple[str, str, str, int, tuple[str, ...]]]:
    now = kept()
    assert now == expected()
    return now


def _ids(found: set[tuple[str, str, str, int, tuple[str, ...]]]) -> set[frozenset[str]]:
    return {frozenset((a, b)) for a, b, *_ in found}


def test_kept_pairs_equal_a_rebuild_after_each_kind_of_change() -> None:
    acme = make_org("Acme", domains=("acme.test",))
    jane = make_person("Jane Doe", email="jane@acme.test", org=acme)
    twin = add_person(name="Jane Doe", emails=["jd@else.test"])
    assert _same() == set()  # a person's name alone scores 45: not a likely pair
    update_record(ref=jane.id, values={"phone": "+1 202 555 0142"})
    update_record(ref=twin.id, values={"phone": "(202) 555-0142"})  # now they share a phone
    kept_now = _same()
    assert frozenset((jane.id, twin.id)) in _ids(kept_now)
    # created: an organisation named alike, then one sharing the domain
    acme2 = add_organization(name="ACME Inc.")
    assert frozenset((acme.id, acme2.id)) in _ids(_same())
    # renamed apart: the pair goes
    update_record(ref=acme2.id, values={"name": "Initech"})
    assert frozenset((acme.id, acme2.id)) not in _ids(_same())
    # people at the same organisation with alike names
    jon = make_person("Jonathan Miller", org=acme)
    jon2 = make_person("Jonathon Miller", org=acme)
    assert frozenset((jon.id, jon2.id)) in _ids(_same())
    # the relationship ended: no longer at the same organisation
    (rel_id,) = jon2.outgoing.filter(type_id="works_at").values_list("id", flat=True)
    end_relationship(rel_id=rel_id)
    assert frozenset((jon.id, jon2.id)) not in _ids(_same())
    relate(jon2, "works_at", acme)
    assert frozenset((jon.id, jon2.id)) in _ids(_same())
    # deleted and restored
    delete_record(ref=twin.id)
    assert frozenset((jane.id, twin.id)) not in _ids(_same())
    restore_record(ref=twin.id)
    assert frozenset((jane.id, twin.id)) in _ids(_same())
    # merged and unmerged
    merge_records(keep=jane.id, other=twin.id)
    assert not any(twin.id in pair for pair in _ids(_same()))
    unmerge(ref=twin.id)
    assert frozenset((jane.id, twin.id)) in _ids(_same())
    # the organisation deleted: its people are no longer together there
    delete_record(ref=acme.id)
    assert frozenset((jon.id, jon2.id)) not in _ids(_same())
    restore_record(ref=acme.id)
    assert frozenset((jon.id, jon2.id)) in _ids(_same())
    # a bulk load that names no records: kept pairs are rebuilt whole
    load(records=[("per_bulkjane", "person", "Jane Doe", {})])
    load_contact(Record.objects.get(pk="per_bulkjane"), "email", "jane@acme.test")
    assert frozenset((jane.id, "per_bulkjane")) in _ids(_same())


def test_a_block_past_the_cap_stops_pairing_and_pairs_again_below_it() -> None:
    first = add_person(name="Ann One", phones=["+1 202 555 0100"])
    second = add_person(name="Ann One", phones=["+1 202 555 0100"])
    assert frozenset((first.id, second.id)) in _ids(_same())
    crowd = [
        add_person(name=f"Caller {i}", phones=["+1 202 555 0100"]) for i in range(MAX_BLOCK - 1)
    ]
    assert frozenset((first.id, second.id)) not in _ids(_same())  # 26 share the number
    found = find_duplicates(SYSTEM, min_score=50)
    assert "phone +12025550100 is shared by 26 records" in found["skipped"]
    delete_record(ref=crowd[0].id)
    assert frozenset((first.id, second.id)) in _ids(_same())  # back to 25


def test_kept_page_pages_and_hides_private_records() -> None:
    users = get_user_model().objects
    owner, other = users.create_user(username="o@our.test"), users.create_user(username="x@t")
    people = []
    for i in range(7):
        a = add_person(name=f"Pat Jones{i}", emails=[f"pat{i}@x.test"])
        b = add_person(name=f"Pat Jones{i}")
        load_contact(b, "email", f"pat{i}@x.test")
        people.append((a, b))
    Record.objects.filter(pk=people[0][1].pk).update(private=True, owner_id=owner.pk)
    update_record(ref=people[0][1].id, values={"title": "secret"})  # an event after the change
    rebuild()
    seen: list[tuple[str, str]] = []
    after = None
    while True:
        page = find_duplicates(Viewer(user_id=other.pk), min_score=50, limit=2, after=after)
        seen += [(p["keep"]["id"], p["other"]["id"]) for p in page["pairs"]]
        assert page["total"] == 6
        after = page["next"]
        if after is None:
            break
    assert len(seen) == len(set(seen)) == 6
    assert all(people[0][1].id not in pair for pair in seen)
    everything = find_duplicates(Viewer(user_id=owner.pk), min_score=50, limit=100)
    assert everything["total"] == 7
    # the same pairs the whole search finds, for the viewer who sees everything
    whole = find_duplicates(SYSTEM, min_score=0, limit=100)
    strong = {(p["keep"]["id"], p["other"]["id"]) for p in whole["pairs"] if p["score"] >= 50}
    assert strong == {(p["keep"]["id"], p["other"]["id"]) for p in everything["pairs"]}


def test_a_bulk_load_of_interactions_only_leaves_the_kept_pairs_alone() -> None:
    a = add_person(name="Lee Park", phones=["+1 202 555 0177"])
    b = add_person(name="Lee Park", phones=["+1 202 555 0177"])
    before = _same()
    assert frozenset((a.id, b.id)) in _ids(before)
    # a row the events never saw: only a whole rebuild would find it
    unseen = Record.objects.create(
        id="per_unseen", type_id="person", name="Lee Park", name_key="lee park"
    )
    ContactPoint.objects.create(
        record=unseen, kind="phone", value="+1 202 555 0177", normalized="+12025550177"
    )
    when = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
    load(
        interactions=[(("int_bulk1", "call", when, "Hello", "out", None, None), [(a.id, "to")], [])]
    )
    assert kept() == before  # nothing rebuilt for interactions
    load(records=[("per_other", "person", "Someone Else", {})])
    assert kept() == expected()  # a load of records rebuilds
    assert frozenset((a.id, "per_unseen")) in _ids(kept())


def test_a_big_bulk_load_queues_the_rebuild_and_shows_the_pairs_as_they_were(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a = add_person(name="Kim Lo", phones=["+1 202 555 0166"])
    b = add_person(name="Kim Lo", phones=["+1 202 555 0166"])
    before = _same()
    monkeypatch.setattr(kept_module, "INLINE_MAX", 1)  # two records count as a big load
    load(
        records=[("per_big1", "person", "Kim Lo", {}), ("per_big2", "person", "Zed Q", {})],
        contacts=[("per_big1", "phone", "+1 202 555 0166", "+12025550166", True)],
    )
    shown = find_duplicates(SYSTEM, min_score=50)
    assert shown["stale"] and kept() == before  # the load's pairs wait for the worker
    update_record(ref=a.id, values={"title": "x"})  # events wait for the rebuild too
    assert kept() == before
    run_pending(periodic=False)
    assert not find_duplicates(SYSTEM, min_score=50)["stale"]
    now = _same()
    assert frozenset((b.id, "per_big1")) in _ids(now)
