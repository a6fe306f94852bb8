"""Merge moves everything to KEEP without losing anything; unmerge restores both exactly."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kith.backup.codec import dump_rows
from kith.backup.services import backup_models
from kith.core.errors import Conflict, KithError, ValidationError
from kith.core.models import Change
from kith.core.viewer import SYSTEM
from kith.dedupe.kept import expected, kept
from kith.dedupe.models import DupBlock, DupKey, DupPair, DupState, Merge
from kith.dedupe.services import merge_records, unmerge
from kith.intelligence.models import IntelState
from kith.interactions.models import InteractionLink, Participant
from kith.records.models import ContactPoint, Record
from kith.records.selectors import home_org
from kith.records.services import add_person, delete_record, update_record
from kith.relationships.models import Relationship
from kith.relationships.selectors import record_history
from kith.relationships.services import add_person_at
from kith.relationships.services import relate as _relate
from kith.testing import load_contact, log, make_home, make_org, make_person, relate


def _state(after_change: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (history only up to ``after_change``; merges and the cache
    version counters, which must move on with every change, left out; the kept duplicate
    pairs as their content, which must equal a rebuild, not their renumbered rows)."""
    out: dict[str, Any] = {"kept pairs": sorted(kept())}
    assert out["kept pairs"] == sorted(expected())
    for model in backup_models():
        if model in (Merge, IntelState, DupKey, DupBlock, DupPair, DupState):
            continue
        rows = dump_rows(model)
        if model is Change and after_change is not None:
            rows = [r for r in rows if r["id"] <= after_change]
        out[model._meta.label] = rows
    return out


def _last_change() -> int:
    return Change.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_merge_moves_everything_and_reports_differences() -> None:
    acme = make_org("Acme")
    globex = make_org("Globex")
    keep = make_person("Jane Doe", email="jane@acme.test", org=acme, role="CEO", title="CEO")
    other = add_person_at(
        name="Jane M. Doe",
        emails=["jd@home.test"],
        phones=["+1 202 555 0101"],
        title="Chief Executive",
        fields={"location": "Paris"},
        org=acme.id,
        role="CEO",
    )
    load_contact(other, "email", "jane@acme.test")  # the email both have
    friend = make_person("Bob Roe")
    relate(other, "knows", friend)
    relate(friend, "knows", keep)  # symmetric: identical to other's once merged
    relate(other, "reports_to", keep)  # becomes a self-loop
    relate(other, "board_member_of", globex, role="chair")
    meeting = log("meeting", keep, other, friend, links=(acme,))
    call = log("call", other, at="2026-01-01T10:00Z", links=(acme,))
    other_history = Change.objects.filter(entity_id=other.id).count()

    result = merge_records(keep=keep.id, other=other.id)

    keep.refresh_from_db()
    other.refresh_from_db()
    assert other.deleted_at is not None and other.merged_into == keep.id
    assert keep.fields == {"title": "CEO", "location": "Paris"}
    assert result["fields_added"] == {"location": "Paris"}
    assert {(c["field"], c["keep"], c["other"]) for c in result["conflicts"]} == {
        ("name", "Jane Doe", "Jane M. Doe"),
        ("fields.title", "CEO", "Chief Executive"),
    }
    contacts = sorted(ContactPoint.objects.filter(record=keep).values_list("normalized", "primary"))
    assert contacts == [("+12025550101", True), ("jane@acme.test", True), ("jd@home.test", False)]
    assert not ContactPoint.objects.filter(record=other).exists()
    rels = Relationship.objects.filter(from_record=keep) | Relationship.objects.filter(
        to_record=keep
    )
    kinds = sorted((r.type_id, r.role) for r in rels)
    assert kinds == [("board_member_of", "chair"), ("knows", ""), ("works_at", "CEO")]
    assert not Relationship.objects.filter(from_record=other).exists()
    assert not Relationship.objects.filter(to_record=other).exists()
    assert sorted(Participant.objects.filter(record=keep).values_list("interaction_id", flat=True))
    assert set(
        Participant.objects.filter(record=keep).values_list("interaction_id", flat=True)
    ) == {
        meeting.id,
        call.id,
    }
    assert not Participant.objects.filter(record=other).exists()
    assert InteractionLink.objects.filter(record=acme).count() == 2
    assert Change.objects.filter(entity_id=other.id, action="merged").count() == 1
    moved = Change.objects.filter(entity_id=keep.id, action="create").count()
    assert moved == 2 and other_history == 1
    actions = [h["action"] for h in record_history(SYSTEM, keep)[0]]
    assert "merge" in actions and "merge_conflict" in actions
    conflict = next(h for h in record_history(SYSTEM, keep)[0] if h["field"] == "fields.title")
    assert conflict["old"] == "Chief Executive" and conflict["new"] == "CEO"
    assert result["moved"]["relationships dropped (between the two)"] == 1
    assert result["moved"]["relationships dropped (identical)"] == 2  # knows + works_at CEO
    assert result["moved"]["participations dropped (already on keep)"] == 1


def test_merge_moves_the_home_organisation_setting() -> None:
    home = make_home("Our Co", "our.test")
    twin = make_org("Our Company", domains=("our-co.test",))
    merge_records(keep=twin.id, other=home.id)
    found = home_org()
    assert found is not None and found.id == twin.id
    unmerge(ref=home.id)
    found = home_org()
    assert found is not None and found.id == home.id


def test_merge_errors_are_clear_and_change_nothing() -> None:
    acme = make_org("Acme")
    a = make_person("Ann Lee")
    b = make_person("Ann Lee 2")
    c = make_person("Ann Lee 3")
    before = _state()
    with pytest.raises(ValidationError, match="into itself"):
        merge_records(keep=a.id, other=a.id)
    with pytest.raises(ValidationError, match="only records of one type"):
        merge_records(keep=a.id, other=acme.id)
    assert _state() == before
    merge_records(keep=a.id, other=b.id)
    with pytest.raises(Conflict, match="already merged into"):
        merge_records(keep=c.id, other=b.id)
    with pytest.raises(Conflict, match="already merged into"):
        merge_records(keep=b.id, other=c.id)
    delete_record(ref=c.id)
    with pytest.raises(Conflict, match="deleted"):
        merge_records(keep=a.id, other=c.id)
    with pytest.raises(KithError, match="no record matches"):
        merge_records(keep=a.id, other="nobody")


def test_unmerge_by_merge_id_or_record_and_only_once() -> None:
    a, b = make_person("Ann Lee"), make_person("Ann Leigh")
    merge = merge_records(keep=a.id, other=b.id)
    with pytest.raises(KithError, match="has no merge to undo"):
        unmerge(ref=a.id)
    assert unmerge(ref=merge["id"])["exact"] is True
    with pytest.raises(Conflict, match="already undone"):
        unmerge(ref=merge["id"])
    with pytest.raises(KithError, match="has no merge to undo"):
        unmerge(ref=b.id)
    merge_records(keep=a.id, other=b.id)
    assert unmerge(ref=b.id)["other"]["id"] == b.id


def test_chained_merges_undo_in_reverse_order() -> None:
    a, b, c = make_person("Ann Lee"), make_person("Ann Leigh"), make_person("Anne Lee")
    first = merge_records(keep=b.id, other=a.id)
    second = merge_records(keep=c.id, other=b.id)
    with pytest.raises(Conflict, match="undo that first"):
        unmerge(ref=first["id"])
    unmerge(ref=second["id"])
    unmerge(ref=first["id"])
    assert Record.objects.filter(merged_into__isnull=False).count() == 0


def test_unmerge_after_keep_was_edited_keeps_those_edits() -> None:
    a = make_person("Ann Lee", title="CTO")
    b = make_person("Ann Leigh", location="Oslo", notes="met at a fair")
    merge_records(keep=a.id, other=b.id)
    update_record(ref=a.id, values={"notes": "now a customer", "website": "ann.test"})
    result = unmerge(ref=b.id)
    a.refresh_from_db()
    assert result["exact"] is False and result["fields_left_on_keep"] == ["notes"]
    assert a.fields == {"title": "CTO", "notes": "now a customer", "website": "https://ann.test"}
    b.refresh_from_db()
    assert b.fields == {"location": "Oslo", "notes": "met at a fair"} and b.deleted_at is None


def _random_workspace(rng: random.Random) -> tuple[list[Record], list[Record]]:
    orgs = [
        make_org(f"Org {i}", domains=tuple(rng.sample(["o.test", f"o{i}.test"], rng.randint(0, 2))))
        for i in range(3)
    ]
    people = []
    for i in range(5):
        emails = rng.sample(["a@x.test", "b@x.test", f"p{i}@x.test"], rng.randint(0, 2))
        person = add_person(
            name=f"Person {i}",
            phones=rng.sample(["+1 202 555 0101", "+1 202 555 0102"], rng.randint(0, 1)),
            fields={k: v for k, v in (("title", rng.choice(["A", "B"])),) if rng.random() < 0.7},
        )
        for email in emails:  # a@ and b@ may be shared, as a bulk load can leave them
            load_contact(person, "email", email)
        people.append(person)
    types = ["knows", "reports_to", "colleague_of", "referred"]
    again: dict[str, Any] = {"if_exists": "return", "note": rng.choice(["", "n"])}
    for _ in range(rng.randint(0, 12)):
        a, b = rng.sample(people, 2)
        _relate(a=a.id, type_name=rng.choice(types), b=b.id, role=rng.choice(["", "x"]), **again)
    for _ in range(rng.randint(0, 6)):
        a, org = rng.choice(people), rng.choice(orgs)
        _relate(a=a.id, type_name="works_at", b=org.id, role=rng.choice(["", "dev"]), **again)
    for i in range(rng.randint(0, 6)):
        with_ = rng.sample(people, rng.randint(1, 3))
        links = tuple(rng.sample([*orgs, *people], rng.randint(0, 2)))
        log("meeting", *with_, at=f"2026-01-{i + 1:02d}T10:00Z", links=links)
    return people, orgs


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000))
def test_property_merge_then_unmerge_restores_every_row(seed: int) -> None:
    with transaction.atomic():
        rng = random.Random(seed)
        people, orgs = _random_workspace(rng)
        keep, other = rng.sample(rng.choice([people, orgs]), 2)
        before = _state()
        mark = _last_change()
        merge_records(keep=keep.id, other=other.id)
        assert _state(mark) != before
        unmerge(ref=other.id)
        assert _state(mark) == before
        transaction.set_rollback(True)


def test_cli_merge_and_unmerge(cli) -> None:  # type: ignore[no-untyped-def]
    a = make_person("Ann Lee", email="ann@x.test")
    b = add_person(name="Ann Leigh", emails=["ann2@x.test"], fields={"location": "Oslo"})
    code, out, _ = cli("merge", a.id, b.id, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["fields_added"] == {"location": "Oslo"}
    code, out, _ = cli("merges", "--json")
    assert code == 0 and json.loads(out)[0]["id"] == data["id"]
    code, out, _ = cli("unmerge", data["id"])
    assert code == 0 and "unmerged Ann Leigh" in out
    code, _, err = cli("merge", a.id, a.id)
    assert code == 1 and "into itself" in err
    code, _, err = cli("unmerge", "mrg_nothing")
    assert code == 1 and "no merge or merged record" in err
