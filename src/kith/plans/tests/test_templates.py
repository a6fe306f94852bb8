"""Plan templates, the plan-scoped role metrics, and the outcome vocabulary's metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kith.core.errors import NotFound, ValidationError
from kith.core.viewer import SYSTEM
from kith.interactions.outcomes import define_outcome, outcome_types
from kith.metrics.selectors import show
from kith.plans import services as svc
from kith.plans.models import Measure, Stakeholder
from kith.plans.selectors import plan_view
from kith.plans.templates import BUILTIN, check_template, save_template
from kith.server.tests.conftest import make_caller
from kith.testing import log


def test_a_plan_from_a_template_dates_everything_from_its_start(world: dict[str, Any]) -> None:
    plan = svc.add_plan(
        viewer=SYSTEM,
        account="Acme",
        name="Acme grows",
        start="2026-06-01",
        owner="mia@our.test",
        template="expand",
    )
    v = plan_view(SYSTEM, plan.id)
    assert v["review_every"] == 30
    assert v["sections"]["desired_outcome"] == BUILTIN["expand"]["desired_outcome"]
    # (the clock stands still in tests: order by what, not by when)
    assert {g["text"]: g["due"] for g in v["goals"]} == {
        "Broaden the relationship": "2026-11-28",  # start + 180 days
        "Regular executive time": "2026-09-29",  # start + 120 days
    }
    broaden = next(g for g in v["goals"] if g["text"] == "Broaden the relationship")
    by_metric = {m["metric"]: m for m in broaden["measures"]}
    engaged = by_metric["people.engaged"]
    # target_delta 5 over the baseline the metric had on the start day (Ann and Lee: 2)
    assert engaged["baseline"] == {"value": 2.0, "on": "2026-06-01"}
    assert engaged["target"] == {"value": 7.0, "by": "2026-11-28"}
    assert by_metric["roles.warm"]["target"]["value"] == 3
    assert sorted((i["title"], i["due"], i["owner"]["name"]) for i in v["initiatives"]) == [
        ("Executive briefing", "2026-07-16", "Mia Chen"),
        ("Map the buying committee", "2026-06-22", "Mia Chen"),
    ]
    # an explicit cadence wins over the template's
    other = svc.add_plan(
        viewer=SYSTEM, account="Acme", name="Keep Acme", template="retain", review_every=7
    )
    assert plan_view(SYSTEM, other.id)["review_every"] == 7


def test_template_errors_name_the_path_and_write_nothing(world: dict[str, Any]) -> None:
    bad = json.loads(json.dumps(BUILTIN["expand"]))
    bad["goals"][1]["measures"][0]["metric"] = "nope"
    with pytest.raises(NotFound, match=r"template.goals\[1\].measures\[0\].metric: unknown"):
        check_template(bad)
    bad["goals"][1]["measures"][0] = {"metric": "health", "by_days": 30}
    with pytest.raises(ValidationError, match=r"goals\[1\].measures\[0\]: give one of target"):
        save_template(viewer=SYSTEM, key="mine", body=bad)
    with pytest.raises(NotFound, match="template: unknown template 'mine'"):
        svc.add_plan(viewer=SYSTEM, account="Acme", name="X", template="mine")
    assert not Measure.objects.exists()


def test_cli_and_api_templates(cli: Any, world: dict[str, Any], tmp_path: Path) -> None:
    body = {
        "name": "Pilot",
        "review_every": 14,
        "goals": [
            {
                "text": "Run the pilot",
                "due_days": 60,
                "measures": [{"label": "Pilot users", "target": 50, "baseline": 0, "by_days": 60}],
                "initiatives": [{"title": "Kick-off", "due_days": 7}],
            }
        ],
    }
    f = tmp_path / "pilot.json"
    f.write_text(json.dumps(body))
    code, out, err = cli("plan", "template", "save", "pilot", str(f), "--json")
    assert code == 0, err
    code, out, err = cli("plan", "template", "list", "--json")
    listed = {t["key"]: t for t in json.loads(out)}
    assert set(listed) == {"expand", "retain", "pilot"} and listed["pilot"]["measures"] == 1
    code, out, err = cli(
        "plan", "add", "Acme", "--name", "Acme pilot", "--template", "pilot", "--json"
    )
    assert code == 0, err
    shown = plan_view(SYSTEM, json.loads(out)["id"])
    assert shown["review_every"] == 14 and shown["goals"][0]["measures"][0]["label"] == (
        "Pilot users"
    )
    f.write_text("{not json")
    code, _, err = cli("plan", "template", "save", "pilot2", str(f))
    assert code == 1 and err.startswith("error: template: not valid JSON")
    caller = make_caller("member@our.test", "member")
    status, got = caller.call("GET", "/plan-templates", None)
    assert status == 200 and [t["key"] for t in got] == ["expand", "pilot", "retain"]
    status, got = caller.call("POST", "/plan-templates", {"key": "Bad Key", "body": body})
    assert status == 422 and "key" in got["message"]
    status, got = caller.call(
        "POST", "/plans", {"account": "Acme", "name": "Y", "template": "retain"}
    )
    assert status == 201, got


def test_roles_metrics_count_warm_required_roles_as_of_a_day(
    world: dict[str, Any], time_travel: Any
) -> None:
    plan = svc.add_plan(viewer=SYSTEM, account="Acme", name="Roles", start="2026-06-01")
    svc.add_stakeholder(viewer=SYSTEM, plan=plan.id, person="Ann Bell", role="champion")
    svc.add_stakeholder(viewer=SYSTEM, plan=plan.id, person="Lee Park", role="economic_buyer")
    filled = show(SYSTEM, "roles.filled", plan.id)
    warm = show(SYSTEM, "roles.warm", plan.id)
    assert (filled["value"], filled["n"]) == (2.0, 3)
    assert "missing: decision maker" in filled["reasons"]
    # Tom talks to Ann often; Lee was met once, 94 days ago: only the champion is warm
    assert warm["value"] == 1.0 and warm["evidence"] == [world["ann"].id]
    assert "filled but nobody on our team is warm with them: economic buyer" in warm["reasons"]
    time_travel.advance(days=1)
    svc.add_stakeholder(viewer=SYSTEM, plan=plan.id, person="Bob Stone", role="decision_maker")
    # recomputed for yesterday, Bob (named today) does not count
    assert show(SYSTEM, "roles.filled", plan.id, as_of="2026-06-15")["value"] == 2.0
    assert show(SYSTEM, "roles.filled", plan.id)["value"] == 3.0
    goal = svc.add_goal(viewer=SYSTEM, plan=plan.id, text="Warm roles")
    m = svc.add_measure(viewer=SYSTEM, goal=goal.id, metric="roles.warm", target=3, by="2026-12-01")
    # the plan's own metric as of its start: nobody was named a stakeholder yet
    assert (m.baseline_value, m.baseline_on.isoformat()) == (0.0, "2026-06-01")
    with pytest.raises(ValidationError, match=r"roles\.warm is measured for plan"):
        show(SYSTEM, "roles.warm", "Acme")
    assert Stakeholder.objects.count() == 3


def test_outcomes_and_value_events(world: dict[str, Any]) -> None:
    tom, ann, acme = world["tom"], world["ann"], world["acme"]
    log("meeting", tom, ann, at="2026-06-02T10:00Z", outcome="demo_booked")
    log("call", tom, ann, at="2026-06-03T10:00Z", outcome="no_decision")
    log("note", tom, at="2026-06-04T10:00Z", links=(acme,), outcome="go_live")
    log("meeting", tom, ann, at="2026-06-05T10:00Z", outcome="reference_given")
    log("meeting", tom, ann, at="2026-01-05T10:00Z", outcome="expansion")  # outside 90 days
    got = show(SYSTEM, "outcomes", "Acme")
    assert got["value"] == 3.0  # demo booked, go-live, reference given: positive
    assert "1 demo booked, 1 go live, 1 reference given" in got["reasons"]
    assert show(SYSTEM, "outcomes", "Acme", params='{"polarity": "neutral"}')["value"] == 1.0
    events = show(SYSTEM, "value.events", "Acme")
    assert events["value"] == 2.0 and len(events["evidence"]) == 2
    assert show(SYSTEM, "value.events", "Acme", window="1y")["value"] == 3.0
    assert show(SYSTEM, "value.events", "Acme", as_of="2026-06-04")["value"] == 1.0
    with pytest.raises(ValidationError, match=r"filter\.outcome: demo_booked is not a value event"):
        show(SYSTEM, "value.events", "Acme", params='{"outcome": "demo_booked"}')
    define_outcome(key="Pilot signed", polarity="positive", value_event=True)
    assert "pilot_signed" in [o["key"] for o in outcome_types(value_event=True)]
    with pytest.raises(ValidationError, match="polarity: 'great' is not one of"):
        define_outcome(key="x", polarity="great")
    admin = make_caller("admin@our.test", "admin")
    status, body = admin.call("POST", "/outcomes", {"key": "churned", "polarity": "negative"})
    assert status == 201 and body["polarity"] == "negative"
    member = make_caller("member@our.test", "member")
    status, _ = member.call("POST", "/outcomes", {"key": "x", "polarity": "negative"})
    assert status == 403
    status, body = member.call("GET", "/outcomes", None, value_events=True)
    assert status == 200 and {o["key"] for o in body} >= {"go_live", "pilot_signed"}


def test_milestones_from_the_cli_and_the_api(cli: Any, world: dict[str, Any]) -> None:
    plan = svc.add_plan(viewer=SYSTEM, account="Acme", name="Glide", start="2026-06-01")
    goal = svc.add_goal(viewer=SYSTEM, plan=plan.id, text="Refs")
    args = ["measure", "add", goal.id, "--target", "10", "--by", "2027-06-01", "--baseline", "0"]
    code, _, err = cli(*args, "--milestone", "2026-12-01=4", "--milestone", "2026-09-01=2")
    assert code == 0, err
    m = Measure.objects.get(goal=goal)
    assert m.milestones == [["2026-09-01", 2.0], ["2026-12-01", 4.0]]
    for bad, said in [
        ("2027-07-01=5", "error: milestone: 2027-07-01 is not between the start 2026-06-01"),
        ("2026-09-01", "error: milestone: '2026-09-01' is not DATE=VALUE"),
        ("2026-09-01=lots", "error: milestone: 'lots' is not a number"),
    ]:
        code, _, err = cli(*args, "--milestone", bad)
        assert code == 1 and err.startswith(said), err
    assert Measure.objects.filter(goal=goal).count() == 1
    member = make_caller("member@our.test", "member")
    status, body = member.call(
        "POST",
        f"/goals/{goal.id}/measures",
        {
            "target": 10,
            "by": "2027-06-01",
            "baseline": "0",
            "milestones": [{"on": "2026-10-01", "value": 3}],
        },
    )
    assert status == 201, body
    shown = plan_view(SYSTEM, plan.id)["goals"][0]["measures"]
    assert {"on": "2026-10-01", "value": 3.0} in [x for s in shown for x in s["milestones"]]


def test_one_measure_that_cannot_be_computed_does_not_stop_the_daily_readings(
    world: dict[str, Any],
) -> None:
    home = svc.add_plan(viewer=SYSTEM, account="Our Co", name="Ours", start="2026-06-01")
    goal = svc.add_goal(viewer=SYSTEM, plan=home.id, text="G")
    with pytest.raises(ValidationError, match="metric: Our Co is our own organisation"):
        svc.add_measure(
            viewer=SYSTEM, goal=goal.id, metric="people.engaged", target=3, by="2027-01-01"
        )
    acme = svc.add_plan(viewer=SYSTEM, account="Acme", name="Theirs", start="2026-06-01")
    other = svc.add_goal(viewer=SYSTEM, plan=acme.id, text="G")
    good = svc.add_measure(
        viewer=SYSTEM, goal=other.id, metric="people.engaged", target=3, by="2027-01-01"
    )
    bad = svc.add_measure(viewer=SYSTEM, goal=goal.id, target=3, by="2027-01-01", baseline=0)
    Measure.objects.filter(pk=bad.pk).update(metric="people.engaged")  # as data from before
    assert svc.take_readings()["readings"] == 2
    assert good.readings.get().value == 2.0
    said = bad.readings.get()
    assert said.value is None and "our own organisation" in said.reasons[0]
