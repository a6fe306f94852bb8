"""Key initiatives change state by their own commands (CLI, API, service), closed with a
closure code and a note, with history and audit; a hidden initiative cannot be moved."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_owned_record, add_user
from kith.core.errors import NotFound, ValidationError
from kith.core.models import AuditEvent, Change
from kith.core.viewer import SYSTEM
from kith.interactions.models import Interaction
from kith.plans import services as svc
from kith.plans.selectors import plan_view
from kith.records.models import Record
from kith.server.tests.conftest import make_caller


def _initiative(title: str = "Pilot in Ops") -> tuple[Record, Record]:
    plan = svc.add_plan(viewer=SYSTEM, account="Acme", name="Acme FY27", start="2026-04-01")
    goal = svc.add_goal(viewer=SYSTEM, plan=plan.id, text="Expand", due="2027-01-01")
    ini = svc.add_initiative(
        viewer=SYSTEM, goal=goal.id, title=title, owner="tom@our.test", due="2026-07-01"
    )
    return plan, ini


def _j(cli: Any, *args: str) -> Any:
    code, out, err = cli(*args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_the_initiative_commands(cli: Any, world: dict[str, Any]) -> None:
    plan, ini = _initiative()
    got = _j(cli, "initiative", "start", ini.id)
    assert got == {
        "id": ini.id,
        "title": "Pilot in Ops",
        "state": "in_progress",
        "closure": None,
        "closure_note": None,
    }
    got = _j(cli, "initiative", "done", "Pilot in Ops", "--closure", "partially achieved",
             "--note", "Ops only, not Finance")  # fmt: skip
    assert (got["state"], got["closure"]) == ("done", "partially_achieved")
    assert got["closure_note"] == "Ops only, not Finance"
    view = plan_view(SYSTEM, plan.id)["initiatives"][0]
    assert (view["state"], view["closure"]) == ("done", "partially_achieved")
    assert view["closure_note"] == "Ops only, not Finance"
    got = _j(cli, "initiative", "reopen", ini.id)
    assert (got["state"], got["closure"], got["closure_note"]) == ("planned", None, None)
    got = _j(cli, "initiative", "cancel", ini.id, "--note", "budget cut")
    assert (got["state"], got["closure"]) == ("cancelled", "cancelled")
    got = _j(cli, "initiative", "move", ini.id, "in-progress")
    assert (got["state"], got["closure"]) == ("in_progress", None)
    code, out, _ = cli("initiative", "done", ini.id)
    assert code == 0 and out.strip() == f"initiative {ini.id}: Pilot in Ops is done (achieved)"
    # history keeps every step; each move is audited once (a move to the same state is none)
    states = [
        c.new
        for c in Change.objects.filter(entity_id=ini.id, field="fields.state").order_by("id")
        if c.new is not None
    ]
    assert states == ["in_progress", "done", "planned", "cancelled", "in_progress", "done"]
    before = AuditEvent.objects.filter(action="plan.initiative_moved", target=ini.id).count()
    assert before == 6
    _j(cli, "initiative", "done", ini.id)
    assert AuditEvent.objects.filter(action="plan.initiative_moved", target=ini.id).count() == 6


def test_bad_moves_are_one_line_and_change_nothing(cli: Any, world: dict[str, Any]) -> None:
    _, ini = _initiative()
    for args, said in [
        (("initiative", "move", ini.id, "finished"), "error: state: 'finished' is not one of"),
        (
            ("initiative", "done", ini.id, "--closure", "great"),
            "error: closure: 'great' is not one of achieved, partially_achieved, missed",
        ),
        (
            ("initiative", "done", ini.id, "--closure", "cancelled"),
            "error: closure: 'cancelled' is not one of achieved, partially_achieved, missed",
        ),
        (
            ("initiative", "move", ini.id, "planned", "--closure", "missed"),
            "error: closure: 'missed' only closes a done or cancelled initiative, not planned",
        ),
        (
            ("initiative", "start", "ini_nope"),
            "error: initiative: no initiative matches 'ini_nope'",
        ),
        (("initiative", "start", "Acme"), "error: initiative: no initiative matches 'Acme'"),
    ]:
        code, out, err = cli(*args)
        assert code == 1 and err.startswith(said), (args, err)
        assert "Traceback" not in err and out == ""
    ini.refresh_from_db()
    assert ini.fields["state"] == "planned" and "closure" not in ini.fields


def test_the_api_moves_an_initiative_and_hides_a_private_one(
    world: dict[str, Any], settings: Any
) -> None:
    _, ini = _initiative()
    member = make_caller("member@our.test", "member")
    status, body = member.call(
        "POST", f"/initiatives/{ini.id}/state", {"state": "done", "closure": "missed"}
    )
    assert status == 200 and (body["state"], body["closure"]) == ("done", "missed"), body
    status, body = member.call("POST", f"/initiatives/{ini.id}/state", {"state": "later"})
    assert status == 422 and body["field"] == "state"
    viewer = make_caller("viewer@our.test", "viewer")
    status, _ = viewer.call("POST", f"/initiatives/{ini.id}/state", {"state": "planned"})
    assert status == 403
    # a private initiative (or one of a hidden plan) is not found by another member
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    add_user(email="owner@our.test", role="member", password="a long password 1")
    add_user(email="other@our.test", role="member", password="a long password 2")
    owner = get_user("owner@our.test")
    secret_org = add_owned_record(user=owner, private=True, type_key="organization", name="Hid")
    me, them = viewer_of(owner), viewer_of(get_user("other@our.test"))
    hidden_plan = svc.add_plan(viewer=me, account=secret_org.id, name="Hidden plan")
    goal = svc.add_goal(viewer=me, plan=hidden_plan.id, text="Secret goal")
    secret = svc.add_initiative(viewer=me, goal=goal.id, title="Secret pilot")
    with pytest.raises(NotFound, match="initiative: no initiative matches"):
        svc.move_initiative(viewer=them, initiative=secret.id, state="done")
    with pytest.raises(NotFound, match="initiative: no initiative matches 'Secret pilot'"):
        svc.move_initiative(viewer=them, initiative="Secret pilot", state="done")
    assert svc.move_initiative(viewer=me, initiative=secret.id, state="done").fields["state"] == (
        "done"
    )
    with pytest.raises(ValidationError):
        svc.move_initiative(viewer=me, initiative=secret.id, state="")


def test_kith_log_outcome_checks_the_vocabulary(cli: Any, world: dict[str, Any]) -> None:
    before = Interaction.objects.count()
    code, out, err = cli("log", "meeting", "--with", "Ann Bell", "--outcome", "great chat")
    assert code == 1 and out == "" and "Traceback" not in err
    assert err.startswith("error: outcome: 'great chat' is not an outcome type (one of ")
    assert "demo_booked" in err and "no_decision" in err and len(err.strip().splitlines()) == 1
    assert Interaction.objects.count() == before
    got = _j(cli, "log", "meeting", "--with", "Ann Bell", "--outcome", "Demo booked")
    assert got["outcome"] == "demo_booked"
    member = make_caller("member@our.test", "member")
    status, body = member.call(
        "POST",
        "/interactions",
        {"kind": "call", "participants": [{"ref": "Ann Bell"}], "outcome": "nope"},
    )
    assert status == 422 and body["field"] == "outcome", body
    assert Interaction.objects.count() == before + 1
    code, _, err = cli("outcome", "add", "pilot_signed", "--polarity", "positive")
    assert code == 0, err
    assert _j(cli, "log", "call", "--with", "Ann Bell", "--outcome", "pilot-signed")["outcome"] == (
        "pilot_signed"
    )
