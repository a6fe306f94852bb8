"""changes_since: typed items with evidence, the half-open window, bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kith.briefs.selectors import changes_since
from kith.core.errors import NotFound, ValidationError
from kith.core.viewer import SYSTEM


def _kinds(items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for i in items:
        out.setdefault(i["kind"], []).append(i)
    return out


def test_what_changed_at_an_account(acme: dict[str, Any]) -> None:
    got = changes_since(SYSTEM, "Acme", "2026-11-01", "2026-11-07")
    assert got["since"] == "2026-11-01T00:00:00Z" and got["until"] == "2026-11-08T00:00:00Z"
    k = _kinds(got["items"])
    (left,) = k["relationship_ended"]
    assert left["text"] == "Jane Doe left Acme on 2026-11-02 (CFO)"
    assert acme["jane"].id in left["evidence"]
    started = [i["text"] for i in k["relationship_started"]]
    assert "new: Raj Patel, CFO, at Acme since 2026-11-03" in started
    (field,) = k["field_changed"]
    assert field["text"] == "Acme: industry changed from empty to 'steel'"
    summary = k["interactions"][0]
    assert summary["data"]["by_kind"] == {"email": 4, "meeting": 2}
    assert acme["first"].id in summary["evidence"]
    (ours,) = k["interactions_by_member"]
    assert [m["name"] for m in ours["data"]["members"]] == ["Ann Lee", "Bob Stone"]
    unanswered = k["unanswered_inbound"]
    assert [i["evidence"][0] for i in unanswered] == [acme["first"].id, acme["hush"].id]
    assert [i["evidence"][0] for i in k["task_done"]] == [acme["done"].id]
    assert [i["evidence"][0] for i in k["task_overdue"]] == [acme["late"].id]


def test_an_item_exactly_at_since_is_in_one_window_only(acme: dict[str, Any]) -> None:
    # the kick-off meeting is at 2026-11-01T00:00Z exactly: in the window starting then
    before = changes_since(SYSTEM, "Acme", "2026-10-25", "2026-10-31")
    after = changes_since(SYSTEM, "Acme", "2026-11-01", "2026-11-07")
    ids_before = {e for i in before["items"] for e in i["evidence"]}
    ids_after = {e for i in after["items"] if i["kind"] == "interactions" for e in i["evidence"]}
    kickoff = next(e for e in ids_after if e.startswith("int_") and e not in ids_before)
    assert kickoff
    assert all(i["kind"] != "interactions" or kickoff not in i["evidence"] for i in before["items"])


def test_reproducible_as_of_a_day(acme: dict[str, Any]) -> None:
    a = changes_since(SYSTEM, "Acme", "2026-11-01", "2026-11-07")
    b = changes_since(SYSTEM, "Acme", "2026-11-01", "2026-11-07")
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    earlier = changes_since(SYSTEM, "Acme", "2026-11-01", "2026-11-02")
    kinds = {i["kind"] for i in earlier["items"]}
    assert "task_done" not in kinds and "field_changed" not in kinds
    assert "Raj Patel" not in json.dumps(earlier)  # he started on 2026-11-03


def test_health_moves_of_ten_points_with_reasons(acme: dict[str, Any]) -> None:
    got = changes_since(SYSTEM, "Jane Doe", "2026-06-01", "2026-08-31", kinds=["health"])
    (move,) = [i for i in got["items"] if i["kind"] == "health_move"]
    assert move["data"]["after"] - move["data"]["before"] >= 10
    assert move["data"]["reasons"] and acme["ann"].id in move["evidence"]
    strength = [i for i in got["items"] if i["kind"] == "strength_move"]
    assert strength and strength[0]["data"]["member"] == acme["ann"].id


def test_bad_input_names_the_field(acme: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="since: 'yesterday' is not 7d"):
        changes_since(SYSTEM, "Acme", "yesterday", "2026-11-07")
    with pytest.raises(ValidationError, match="since: 2026-12-01 is after the as-of day"):
        changes_since(SYSTEM, "Acme", "2026-12-01", "2026-11-07")
    with pytest.raises(ValidationError, match="kind: 'gossip' is not one of"):
        changes_since(SYSTEM, "Acme", "7d", "2026-11-07", kinds=["gossip"])
    with pytest.raises(ValidationError, match="as_of: '2026-13-01' is not a valid date"):
        changes_since(SYSTEM, "Acme", "7d", "2026-13-01")
    with pytest.raises(ValidationError, match="since: Acme has no plan review"):
        changes_since(SYSTEM, "Acme", "last-review", "2026-11-07")
    with pytest.raises(NotFound, match="ref: no record matches 'Nobody'"):
        changes_since(SYSTEM, "Nobody", "7d", "2026-11-07")


def test_a_private_person_is_named_nowhere(acme: dict[str, Any]) -> None:
    theirs = json.dumps(changes_since(acme["other"], "Acme", "2026-11-01", "2026-11-07"))
    for leak in ("Secret Sam", acme["secret"].id, acme["hush"].id, "Chief Spy", "Psst"):
        assert leak not in theirs
    assert "Secret lunch" not in theirs
    mine = json.dumps(changes_since(acme["owner"], "Acme", "2026-11-01", "2026-11-07"))
    assert "Secret Sam" in mine and acme["hush"].id in mine
    got = changes_since(acme["other"], "Acme", "2026-11-01", "2026-11-07")
    summary = next(i for i in got["items"] if i["kind"] == "interactions")
    assert summary["data"]["by_kind"] == {"email": 3, "meeting": 1}  # counts too
    with pytest.raises(NotFound):
        changes_since(acme["other"], acme["secret"].id, "7d", "2026-11-07")
