"""Correcting interactions: edit, delete (soft, restorable) and restore, in the CLI and the
API alike, with history kept and scores, timelines and counts following."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from kith.accounts.selectors import viewer_of
from kith.accounts.services import add_owned_record, add_user, create_token
from kith.core.errors import Conflict, ValidationError
from kith.core.models import Change
from kith.core.viewer import SYSTEM
from kith.intelligence.selectors import strength
from kith.interactions import selectors, services
from kith.interactions.models import Interaction, Participant
from kith.lists.selectors import list_records
from kith.testing import log, make_home, make_org, make_person


@pytest.fixture
def world(time_travel: Any) -> dict[str, Any]:
    home = make_home()
    mia = make_person("Mia Team", org=home, since="2020-01-01")
    acme = make_org("Acme")
    jane = make_person("Jane Doe", org=acme, since="2024-01-01")
    calls = [
        log("call", mia, jane, at=f"2026-0{m}-10T10:00:00Z", subject=f"Call {m}")
        for m in range(1, 6)
    ]
    return {"mia": mia, "jane": jane, "acme": acme, "calls": calls}


def _timeline(record: Any) -> list[str]:
    return [i["subject"] for i in selectors.timeline(SYSTEM, record)]


def test_delete_takes_it_off_every_timeline_and_score_and_restore_brings_it_back(
    world: dict[str, Any], cli: Any
) -> None:
    jane, acme, last = world["jane"], world["acme"], world["calls"][-1]
    before = strength(SYSTEM, "Mia Team", "Jane Doe")
    code, out, _ = cli("interaction", "delete", last.id, "--json")
    assert code == 0 and json.loads(out)["deleted_at"]
    assert json.loads(out)["participants"]  # kept, to be put back
    assert "Call 5" not in _timeline(jane) and "Call 5" not in _timeline(acme)
    assert Participant.objects.filter(interaction_id=last.id).count() == 0
    gone = strength(SYSTEM, "Mia Team", "Jane Doe")
    assert gone["score"] < before["score"]  # the latest call no longer counts
    code, out, err = cli("interaction", "delete", last.id)
    assert code != 0 and "is deleted; restore it first" in err
    code, out, _ = cli("interaction", "restore", last.id)
    assert code == 0 and "restored call" in out
    assert _timeline(jane)[0] == "Call 5"
    assert strength(SYSTEM, "Mia Team", "Jane Doe")["score"] == before["score"]
    actions = list(
        Change.objects.filter(entity_id=last.id).order_by("id").values_list("action", flat=True)
    )
    assert actions == ["create", "delete", "restore"]


def test_edit_moves_it_in_time_keeps_history_and_refuses_stale_or_bad_values(
    world: dict[str, Any], cli: Any
) -> None:
    first = world["calls"][0]
    code, out, _ = cli(
        "interaction", "edit", first.id, "--set", "at=2026-05-20T09:00:00Z",
        "--set", "subject=Call 1 (moved)", "--json",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["version"] == 1
    assert _timeline(world["jane"])[0] == "Call 1 (moved)"
    assert {p.at.isoformat() for p in Participant.objects.filter(interaction_id=first.id)} == {
        "2026-05-20T09:00:00+00:00"
    }
    fields = set(
        Change.objects.filter(entity_id=first.id, action="update").values_list("field", flat=True)
    )
    assert fields == {"at", "subject"}
    with pytest.raises(Conflict, match="is at version 1, not 0"):
        services.edit_interaction(
            interaction_id=first.id, values={"subject": "x"}, expected_version=0
        )
    for values, field in (
        ({"participants": "x"}, "participants"),
        ({"at": "yesterday-ish"}, "at"),
        ({"direction": "sideways"}, "direction"),
        ({"sentiment": "furious"}, "sentiment"),
    ):
        with pytest.raises(ValidationError) as err:
            services.edit_interaction(interaction_id=first.id, values=values)
        assert err.value.field == field
    assert Interaction.objects.get(pk=first.id).subject == "Call 1 (moved)"  # nothing changed
    code, _, err = cli("interaction", "edit", "int_nope", "--set", "subject=x")
    assert code != 0 and "no interaction 'int_nope'" in err


def test_a_deleted_interaction_leaves_lists_and_is_not_logged_again(world: dict[str, Any]) -> None:
    call = log("call", world["mia"], world["jane"], external_id="ext-1", subject="Once")
    services.delete_interaction(interaction_id=call.id)
    items, _ = selectors.interactions_page(SYSTEM, limit=50)
    assert call.id not in [i["id"] for i in items]
    again, created = services.log_interaction(
        kind="call", participants=[(world["jane"].id, None)], external_id="ext-1"
    )
    assert not created and again.id == call.id  # a re-import does not bring it back


def test_the_api_corrects_only_what_the_caller_may_see(world: dict[str, Any]) -> None:
    member, _ = add_user(email="member@our.test", role="member", password="a long password")
    other, _ = add_user(email="other@our.test", role="member", password="a long password")
    secret = add_owned_record(user=other, private=True, type_key="person", name="Secret Sam")
    hidden = log("call", secret, subject="Private call")
    token = create_token(email=member.username, name="t")[1]

    def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        resp = Client().generic(
            method,
            f"/api/v1{path}",
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        return resp.status_code, resp.json()

    first = world["calls"][0].id
    code, done = call("PATCH", f"/interactions/{first}", {"set": {"outcome": "won"}, "version": 0})
    assert code == 200 and done["outcome"] == "won" and done["version"] == 1
    code, err = call("PATCH", f"/interactions/{first}", {"set": {"outcome": "x"}, "version": 0})
    assert code == 409 and err["field"] == "version"
    assert call("DELETE", f"/interactions/{first}")[1]["deleted_at"]
    assert call("GET", f"/interactions/{first}")[0] == 404
    assert call("POST", f"/interactions/{first}/restore", {})[0] == 200
    code_hidden, err_hidden = call("DELETE", f"/interactions/{hidden.id}")
    code_missing, err_missing = call("DELETE", "/interactions/int_missing000")
    assert code_hidden == code_missing == 404
    assert err_hidden["message"].replace(hidden.id, "X") == err_missing["message"].replace(
        "int_missing000", "X"
    )
    assert Interaction.objects.get(pk=hidden.id).deleted_at is None
    assert selectors.check_correctable(viewer_of(other), hidden.id) == hidden.id
    mixed = log("call", world["jane"], secret, subject="Shared call")
    for method, path in (("DELETE", ""), ("POST", "/restore")):  # deleted, then live
        code, answer = call(method, f"/interactions/{mixed.id}{path}", {} if path else None)
        assert code == 200 and "Secret Sam" not in json.dumps(answer)
        assert [p["name"] for p in answer["participants"]] == ["Jane Doe"]


def test_a_future_interaction_is_planned_and_one_before_1900_is_refused(
    world: dict[str, Any], time_travel: Any
) -> None:
    mia, jane = world["mia"], world["jane"]
    time_travel.to("2026-06-01T12:00:00Z")
    before = strength(SYSTEM, "Mia Team", "Jane Doe")
    planned = log("meeting", mia, jane, at="2026-06-20T10:00:00Z", subject="QBR")
    [first, *_] = selectors.timeline(SYSTEM, jane)
    assert first["subject"] == "QBR" and first["planned"] is True
    assert selectors.timeline(SYSTEM, jane)[1]["planned"] is False
    assert strength(SYSTEM, "Mia Team", "Jane Doe")["score"] == before["score"]
    page = list_records(SYSTEM, "person", {"cols": ["last"], "q": ["Jane"]})
    assert page["rows"][0]["cells"]["last"].date().isoformat() == "2026-05-10"  # not the QBR
    time_travel.to("2026-06-21T12:00:00Z")  # it happened
    assert selectors.timeline(SYSTEM, jane)[0]["planned"] is False
    assert strength(SYSTEM, "Mia Team", "Jane Doe")["score"] != before["score"]
    with pytest.raises(ValidationError, match="at: 1899-12-31 is before 1900"):
        services.log_interaction(
            kind="call", participants=[(jane.id, None)], at="1899-12-31T10:00:00Z"
        )
    with pytest.raises(ValidationError, match="before 1900"):
        services.edit_interaction(interaction_id=planned.id, values={"at": "0201-06-20"})
