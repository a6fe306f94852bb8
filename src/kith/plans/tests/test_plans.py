"""Plans on real data: goals measured from the catalogue, stakeholders, reviews, privacy."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_owned_record, add_user
from kith.core.errors import Conflict, NotFound, ValidationError
from kith.core.viewer import SYSTEM
from kith.plans import services as svc
from kith.plans.models import Review
from kith.plans.selectors import plan_view, plans_list, readings
from kith.records.models import Record
from kith.testing import log


def _plan(world: dict[str, Any], **kw: Any) -> Record:
    return svc.add_plan(
        viewer=SYSTEM,
        account="Acme",
        name="Acme FY27",
        owner="mia@our.test",
        start=kw.pop("start", "2026-06-01"),
        end="2027-03-31",
        review_every=30,
        sections={"desired_outcome": "Acme standardises on us"},
        team=[("tom@our.test", "technical lead")],
        **kw,
    )


def test_a_plan_with_a_goal_measured_from_the_data(world: dict[str, Any], time_travel: Any) -> None:
    plan = _plan(world)
    goal = svc.add_goal(
        viewer=SYSTEM,
        plan=plan.id,
        text="Broaden the relationship",
        due="2027-03-31",
        owner="mia@our.test",
    )
    m = svc.add_measure(
        viewer=SYSTEM, goal=goal.id, metric="team.in_touch", target=4, by="2027-03-31"
    )
    assert m.baseline_auto and m.baseline_on == dt.date(2026, 6, 1)
    assert m.baseline_value == 2  # Tom with Ann, and Mia with Lee (80 days: still warm)
    view = plan_view(SYSTEM, plan.id)
    assert view["account"]["name"] == "Acme" and view["owner"]["name"] == "Mia Chen"
    assert view["team"] == [
        {"id": world["tom"].id, "name": "Tom Ray", "type": "person", "role": "technical lead"}
    ]
    state = view["goals"][0]["measures"][0]
    assert state["label"] == "Our people in touch at Acme"
    assert state["status"] == "unknown" or state["sentence"].startswith(
        "Our people in touch at Acme:"
    )
    # readings over weeks: Mia warms up with Ann and Lee -> the count rises
    for week in range(6):
        svc.take_readings()
        time_travel.advance(days=7)
        if week == 1:
            log("meeting", world["mia"], world["ann"], at=time_travel.now().isoformat())
    svc.take_readings()
    got = readings(SYSTEM, m.id, recompute=True)
    assert len(got["readings"]) == 7
    assert all(r["value"] == r["recomputed"] for r in got["readings"])
    view = plan_view(SYSTEM, plan.id)
    state = view["goals"][0]["measures"][0]
    assert state["status"] in {"on track", "at risk", "off track"}
    assert "(baseline 2 on 2026-06-01, target 4 by 2027-03-31)" in state["sentence"]
    assert state["sentence"].endswith(f": {state['status']}.")


def test_manual_measure_readings_and_status(world: dict[str, Any], time_travel: Any) -> None:
    plan = _plan(world)
    goal = svc.add_goal(viewer=SYSTEM, plan=plan.id, text="Reference customer", due="2027-01-01")
    m = svc.add_measure(
        viewer=SYSTEM,
        goal=goal.id,
        target=10,
        by="2027-01-01",
        baseline=2,
        label="References given",
    )
    svc.record_reading(viewer=SYSTEM, measure_id=m.id, value=2, on="2026-06-01", note="start")
    svc.record_reading(viewer=SYSTEM, measure_id=m.id, value=2.2, on="2026-06-15", note="a little")
    state = plan_view(SYSTEM, plan.id)["goals"][0]["measures"][0]
    assert state["status"] == "off track" and state["current"] == 2.2
    with pytest.raises(ValidationError, match="baseline: a manual measure"):
        svc.add_measure(viewer=SYSTEM, goal=goal.id, target=1, by="2027-01-01")
    with pytest.raises(ValidationError, match="on: 2026-07-01 is in the future"):
        svc.record_reading(viewer=SYSTEM, measure_id=m.id, value=1, on="2026-07-01")
    with pytest.raises(NotFound, match="measure: no measure matches 'msr_x'"):
        svc.record_reading(viewer=SYSTEM, measure_id="msr_x", value=1)


def test_stakeholders_derived_state_and_gaps(world: dict[str, Any]) -> None:
    plan = _plan(world)
    svc.add_stakeholder(
        viewer=SYSTEM,
        plan=plan.id,
        person="Lee Park",
        role="economic buyer",
        stance="neutral",
        owner="mia@our.test",
        topics=["renewal budget"],
        every=30,
    )
    svc.add_stakeholder(
        viewer=SYSTEM,
        plan=plan.id,
        person="Ann Bell",
        role="champion",
        stance="supporter",
        owner="tom@our.test",
        every=30,
    )
    view = plan_view(SYSTEM, plan.id)
    by = {s["person"]["name"]: s for s in view["stakeholders"]}
    lee, ann = by["Lee Park"], by["Ann Bell"]
    assert lee["last_two_way"] == "2026-03-13" and lee["days_since"] == 94 and lee["past_cadence"]
    assert lee["last_two_way_by"]["name"] == "Mia Chen" and lee["works_there"]
    assert ann["warm"][0]["name"] == "Tom Ray" and not ann["past_cadence"]
    sentences = [g["sentence"] for g in view["gaps"]]
    assert "no decision maker named for Acme" in sentences
    assert (
        "no one on our team is warm with the economic buyer Lee Park; "
        "Mia Chen met them 94 days ago, cadence 30"
    ) in sentences
    assert view["health"]["roles_missing"] == ["decision_maker"]
    assert view["health"]["roles_cold"] == ["economic_buyer"]
    with pytest.raises(Conflict, match="already a stakeholder"):
        svc.add_stakeholder(viewer=SYSTEM, plan=plan.id, person="Lee Park", role="champion")
    with pytest.raises(ValidationError, match="role: 'boss' is not one of economic_buyer"):
        svc.add_stakeholder(viewer=SYSTEM, plan=plan.id, person="Bob Stone", role="boss")
    with pytest.raises(ValidationError, match="owner: Lee Park is not on our team"):
        svc.add_stakeholder(
            viewer=SYSTEM, plan=plan.id, person="Bob Stone", role="user", owner="Lee Park"
        )


def test_initiatives_reviews_and_overdue(world: dict[str, Any], time_travel: Any) -> None:
    plan = _plan(world, start="2026-04-01")
    goal = svc.add_goal(viewer=SYSTEM, plan=plan.id, text="Expand", due="2027-01-01")
    svc.add_initiative(
        viewer=SYSTEM,
        goal=goal.id,
        title="Pilot in Ops",
        owner="tom@our.test",
        their_owner="Ann Bell",
        due="2026-07-01",
        state="in_progress",
    )
    view = plan_view(SYSTEM, plan.id)
    assert view["health"]["review_overdue"] and "review overdue (none yet)" in view["summary"]
    ini = view["initiatives"][0]
    assert ini["owner"]["name"] == "Tom Ray" and ini["their_owner"]["name"] == "Ann Bell"
    assert ini["state"] == "in_progress" and ini["due"] == "2026-07-01"
    m = svc.add_measure(
        viewer=SYSTEM,
        goal=goal.id,
        metric="interactions.two_way",
        target=30,
        by="2027-01-01",
        window="90d",
    )
    with pytest.raises(
        ValidationError, match="on: 2026-03-31 is before the plan's start 2026-04-01"
    ):
        svc.add_review(viewer=SYSTEM, plan=plan.id, notes="Too early", on="2026-03-31")
    assert not Review.objects.filter(plan_id=plan.id).exists()
    review = svc.add_review(
        viewer=SYSTEM, plan=plan.id, notes="Kick-off", attendees=["mia@our.test"]
    )
    assert review.on == dt.date(2026, 6, 15)
    assert not plan_view(SYSTEM, plan.id)["health"]["review_overdue"]
    # today's reading taken when the measure was added, then the review's
    assert [r["source"] for r in readings(SYSTEM, m.id)["readings"]] == ["computed", "review"]
    then = plan_view(SYSTEM, plan.id, as_of="2026-06-14")
    assert then["reviews"] == [] and then["health"]["review_overdue"]
    svc.close_goal(viewer=SYSTEM, goal=goal.id, closure="achieved", note="done early")
    closed = plan_view(SYSTEM, plan.id)["goals"][0]
    assert (
        closed["status"] == "closed"
        and closed["closure"] == "achieved"
        and closed["track"] == "closed"
    )


def test_plans_list_filters(world: dict[str, Any]) -> None:
    plan = _plan(world)
    goal = svc.add_goal(viewer=SYSTEM, plan=plan.id, text="Refs", due="2027-01-01")
    m = svc.add_measure(viewer=SYSTEM, goal=goal.id, target=10, by="2027-01-01", baseline=0)
    svc.record_reading(viewer=SYSTEM, measure_id=m.id, value=0, on="2026-06-01")
    svc.record_reading(viewer=SYSTEM, measure_id=m.id, value=0.1, on="2026-06-10")
    other = svc.add_plan(viewer=SYSTEM, account="Acme", name="Draft idea", status="draft")
    assert [p["name"] for p in plans_list(SYSTEM)] == ["Acme FY27", "Draft idea"]
    assert [p["name"] for p in plans_list(SYSTEM, status="draft")] == [other.name]
    risky = plans_list(SYSTEM, at_risk=True)
    assert [p["id"] for p in risky] == [plan.id] and risky[0]["goals"]["off track"] == 1
    assert [p["id"] for p in plans_list(SYSTEM, owner="mia@our.test")] == [plan.id]


def test_bad_input_names_the_field(world: dict[str, Any]) -> None:
    with pytest.raises(NotFound, match="account: no record matches 'Nope'"):
        svc.add_plan(viewer=SYSTEM, account="Nope", name="X")
    with pytest.raises(ValidationError, match="end: 2026-01-01 is not after the start"):
        svc.add_plan(viewer=SYSTEM, account="Acme", name="X", start="2026-06-01", end="2026-01-01")
    with pytest.raises(ValidationError, match="start: 'soon' is not a valid date"):
        svc.add_plan(viewer=SYSTEM, account="Acme", name="X", start="soon")
    plan = _plan(world)
    goal = svc.add_goal(viewer=SYSTEM, plan=plan.id, text="G")
    with pytest.raises(NotFound, match="metric: unknown metric 'nope'"):
        svc.add_measure(viewer=SYSTEM, goal=goal.id, metric="nope", target=1, by="2027-01-01")
    with pytest.raises(ValidationError, match="by: 2026-05-01 is not after the plan's start"):
        svc.add_measure(viewer=SYSTEM, goal=goal.id, metric="health", target=1, by="2026-05-01")
    with pytest.raises(NotFound, match="plan: no plan matches 'Acme'"):
        svc.add_goal(viewer=SYSTEM, plan="Acme", text="G")
    assert Record.objects.filter(type_id="plan").count() == 1  # nothing half-made


def test_privacy(world: dict[str, Any], settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    add_user(email="owner@our.test", role="member", password="a long password 1")
    add_user(email="other@our.test", role="member", password="a long password 2")
    owner = get_user("owner@our.test")
    me, them = viewer_of(owner), viewer_of(get_user("other@our.test"))
    secret_org = add_owned_record(
        user=owner, private=True, type_key="organization", name="Hidden Co"
    )
    hidden_plan = svc.add_plan(viewer=me, account=secret_org.id, name="Hidden plan")
    plan = _plan(world)
    secret = add_owned_record(user=owner, private=True, type_key="person", name="Secret Sue")
    svc.add_stakeholder(viewer=me, plan=plan.id, person=secret.id, role="decision maker")
    svc.add_stakeholder(viewer=SYSTEM, plan=plan.id, person="Lee Park", role="economic buyer")
    assert [p["id"] for p in plans_list(them)] == [plan.id]
    assert {p["id"] for p in plans_list(me)} == {plan.id, hidden_plan.id}
    with pytest.raises(NotFound, match="plan: no plan matches"):
        plan_view(them, hidden_plan.id)
    theirs = plan_view(them, plan.id)
    assert "Secret Sue" not in json.dumps(theirs) and len(theirs["stakeholders"]) == 1
    assert theirs["health"]["roles_missing"] == ["decision_maker", "champion"]
    mine = plan_view(me, plan.id)
    assert len(mine["stakeholders"]) == 2 and mine["health"]["roles_missing"] == ["champion"]
    with pytest.raises(NotFound):
        svc.add_goal(viewer=them, plan=hidden_plan.id, text="peek")
