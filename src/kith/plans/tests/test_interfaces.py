"""The CLI and the API give the plan's same answers; bad input is one clear line."""

from __future__ import annotations

import json
from typing import Any

from kith.core.viewer import SYSTEM
from kith.plans.selectors import plan_view
from kith.server.tests.conftest import make_caller


def _j(cli: Any, *args: str) -> Any:
    code, out, err = cli(*args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_the_issue_commands_end_to_end(cli: Any, world: dict[str, Any]) -> None:
    plan = _j(
        cli,
        "plan",
        "add",
        "Acme",
        "--name",
        "Acme FY27",
        "--start",
        "2026-06-01",
        "--end",
        "2027-03-31",
        "--review-every",
        "30",
        "--owner",
        "mia@our.test",
        "--team",
        "tom@our.test:technical lead",
        "--outcome",
        "standardise",
    )
    goal = _j(
        cli,
        "goal",
        "add",
        plan["id"],
        "Broaden the relationship",
        "--due",
        "2027-03-31",
        "--owner",
        "mia@our.test",
    )
    m = _j(
        cli,
        "measure",
        "add",
        goal["id"],
        "--metric",
        "people.engaged",
        "--target",
        "3",
        "--by",
        "2027-03-31",
    )
    assert m["baseline_on"] == "2026-06-01" and m["baseline"] == 2
    manual = _j(
        cli,
        "measure",
        "add",
        goal["id"],
        "--target",
        "5",
        "--by",
        "2027-03-31",
        "--baseline",
        "0",
        "--label",
        "References",
    )
    _j(cli, "measure", "record", manual["id"], "1", "--on", "2026-06-10", "--note", "first")
    got = _j(cli, "measure", "readings", manual["id"])
    assert [(r["on"], r["value"], r["note"]) for r in got["readings"]] == [
        ("2026-06-10", 1.0, "first")
    ]
    _j(
        cli,
        "stakeholder",
        "add",
        plan["id"],
        "Lee Park",
        "--role",
        "economic_buyer",
        "--owner",
        "mia@our.test",
        "--topic",
        "budget",
        "--every",
        "30",
    )
    _j(
        cli,
        "initiative",
        "add",
        goal["id"],
        "Pilot",
        "--owner",
        "tom@our.test",
        "--their-owner",
        "Ann Bell",
        "--due",
        "2026-07-01",
    )
    gaps = _j(cli, "plan", "stakeholders", plan["id"], "--gaps")
    assert "stakeholders" not in gaps and any("Lee Park" in g["sentence"] for g in gaps["gaps"])
    _j(cli, "plan", "review", plan["id"], "--notes", "kick-off")
    shown = _j(cli, "plan", "show", plan["id"])
    assert shown == plan_view(SYSTEM, plan["id"])
    code, out, _ = cli("plan", "show", plan["id"])
    assert code == 0 and "People engaged at Acme: 2 (baseline 2 on 2026-06-01" in out
    assert [p["id"] for p in _j(cli, "plans", "--status", "active")] == [plan["id"]]
    nxt = _j(cli, "next", "--member", "mia@our.test")
    key = nxt["people"][0]["conversations"][0]["key"]
    made = _j(cli, "next", "--task", key)
    again = _j(cli, "next", "--task", key)
    assert made[0]["id"] == again[0]["id"]
    code, out, _ = cli("next")
    assert code == 0 and "Suggested conversations" in out and "talk to Lee Park (Acme)" in out
    caller = make_caller("viewer@our.test", "viewer")
    status, body = caller.call("GET", f"/plans/{plan['id']}", None)
    assert status == 200 and body == shown
    status, body = caller.call("GET", "/next", None, member="mia@our.test")
    assert status == 200 and body == nxt
    status, body = caller.call("GET", f"/measures/{manual['id']}/readings", None)
    assert status == 200 and body == got


def test_api_writes(world: dict[str, Any]) -> None:
    member = make_caller("member@our.test", "member")
    status, plan = member.call(
        "POST", "/plans", {"account": "Acme", "name": "P", "owner": "mia@our.test"}
    )
    assert status == 201, plan
    status, goal = member.call("POST", f"/plans/{plan['id']}/goals", {"text": "G"})
    assert status == 201
    status, m = member.call(
        "POST",
        f"/goals/{goal['id']}/measures",
        {
            "metric": "interactions.two_way",
            "target": 20,
            "by": "2027-01-01",
            "filter": {"kind": "call"},
        },
    )
    assert status == 201, m
    status, body = member.call(
        "POST", f"/goals/{goal['id']}/measures", {"metric": "nope", "target": 1, "by": "2027-01-01"}
    )
    assert status == 404 and body["field"] == "metric"
    status, body = member.call(
        "POST", f"/plans/{plan['id']}/stakeholders", {"person": "Lee Park", "role": "boss"}
    )
    assert status == 422 and body["field"] == "role"
    status, r = member.call("POST", f"/measures/{m['id']}/readings", {"value": 3, "note": "typed"})
    assert status == 201 and r["source"] == "manual"
    viewer = make_caller("viewer@our.test", "viewer")
    status, _ = viewer.call("POST", "/plans", {"account": "Acme", "name": "Q"})
    assert status == 403


def test_bad_input_is_one_line(cli: Any, world: dict[str, Any]) -> None:
    for args, said in [
        (("plan", "add", "Nope", "--name", "X"), "error: account: no record matches 'Nope'"),
        (("plan", "show", "Nope"), "error: plan: no plan matches 'Nope'"),
        (
            ("plan", "add", "Acme", "--name", "X", "--start", "2026-02-30"),
            "error: start: '2026-02-30' is not a valid date",
        ),
        (("goal", "add", "Nope", "G"), "error: plan: no plan matches 'Nope'"),
        (("measure", "record", "msr_nope", "1"), "error: measure: no measure matches 'msr_nope'"),
        (("next", "--member", "Lee Park"), "error: member: Lee Park is not on our team"),
    ]:
        code, _, err = cli(*args)
        assert (code == 1 and err.strip() == said) or err.strip().startswith(said), (args, err)
        assert "Traceback" not in err


def test_more_bad_input_is_one_line_and_writes_nothing(cli: Any, world: dict[str, Any]) -> None:
    code, out, _ = cli("plan", "add", "Acme", "--name", "P", "--json")
    plan = json.loads(out)["id"]
    for args, said in [
        (("plans", "--status", "bogus"), "error: status: 'bogus' is not one of draft, active"),
        (
            ("stakeholder", "add", plan, "Mia Chen", "--role", "champion"),
            "error: person: Mia Chen is on our team; stakeholders are on the customer's side",
        ),
        (("plan", "add", "Acme", "--name", "Q", "--template", "nope"), "error: template: unknown"),
    ]:
        code, _, err = cli(*args)
        assert code == 1 and err.startswith(said), (args, err)
    code, out, _ = cli("plans", "--json")
    assert [p["name"] for p in json.loads(out)] == ["P"]
