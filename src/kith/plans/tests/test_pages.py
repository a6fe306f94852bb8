"""The record page's Plan section: goals with status sentences, stakeholders, initiatives."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.test import Client

from kith.core.viewer import SYSTEM
from kith.plans import services as svc
from kith.plans.models import Review
from kith.plans.tests.web_clients import _no_rate_limit, make_client, member, viewer
from kith.tasks.models import Task
from kith.web.tests.test_accessibility import check

__all__ = ["_no_rate_limit", "make_client", "member", "viewer"]


def test_the_plan_section(world: dict[str, Any], member: Client) -> None:
    plan = svc.add_plan(
        viewer=SYSTEM, account="Acme", name="Acme FY27", owner="mia@our.test", start="2026-06-01"
    )
    goal = svc.add_goal(
        viewer=SYSTEM, plan=plan.id, text="Broaden the relationship", due="2027-03-31"
    )
    svc.add_measure(viewer=SYSTEM, goal=goal.id, metric="people.engaged", target=3, by="2027-03-31")
    svc.add_stakeholder(
        viewer=SYSTEM, plan=plan.id, person="Lee Park", role="economic_buyer", every=30
    )
    svc.add_initiative(
        viewer=SYSTEM, goal=goal.id, title="Pilot in Ops", owner="tom@our.test", due="2026-07-01"
    )
    acme = world["acme"].id
    assert f"/records/{acme}/plans" in member.get(f"/records/{acme}").content.decode()
    frag = member.get(f"/records/{acme}/plans").content.decode()
    # the record page's Plan section moves initiatives by their forms (plans.js is the plan
    # page's): no card there offers a drag that nothing would handle
    assert 'class="board-move"' in frag and 'draggable="true"' not in frag
    assert "Acme FY27" in frag and "People engaged at Acme: 2 (baseline 2 on 2026-06-01" in frag
    assert "Lee Park" in frag and "band-" in frag and "Pilot in Ops" in frag
    assert "no one on our team is warm with the economic buyer Lee Park" in frag
    assert "style=" not in frag and "<script" not in frag
    assert not re.search(r"\son\w+=", frag)
    check(member.get(f"/records/{acme}").content.decode(), f"/records/{acme}")
    assert (
        "No plan for Mia Chen" in member.get(f"/records/{world['mia'].id}/plans").content.decode()
    )


def _busy_plan(time_travel: Any) -> tuple[Any, Any]:
    """A plan begun on 2026-06-01 with weekly computed readings to 2026-06-15 and a review."""
    plan = svc.add_plan(
        viewer=SYSTEM, account="Acme", name="Acme FY27", owner="mia@our.test", start="2026-06-01"
    )
    goal = svc.add_goal(viewer=SYSTEM, plan=plan.id, text="More calls", due="2026-12-31")
    m = svc.add_measure(
        viewer=SYSTEM,
        goal=goal.id,
        metric="interactions.two_way",
        target=8,
        by="2026-12-31",
        params={"kind": "call"},
    )
    svc.add_stakeholder(
        viewer=SYSTEM,
        plan=plan.id,
        person="Lee Park",
        role="economic_buyer",
        owner="mia@our.test",
        topics=["budget"],
        every=30,
    )
    svc.add_initiative(viewer=SYSTEM, goal=goal.id, title="Pilot in Ops", state="in_progress")
    svc.add_review(viewer=SYSTEM, plan=plan.id, notes="kick-off", on="2026-06-08")
    return plan, m


def test_plans_list_plan_page_and_this_week(
    world: dict[str, Any], member: Client, time_travel: Any
) -> None:
    plan, _ = _busy_plan(time_travel)
    svc.take_readings(as_of=dt.date(2026, 6, 15))
    listed = member.get("/plans").content.decode()
    assert "Acme FY27" in listed and f"/plans/{plan.id}" in listed
    check(listed, "/plans")
    assert "Acme FY27" not in member.get("/plans?status=closed").content.decode()
    html = member.get(f"/plans/{plan.id}").content.decode()
    # a sparkline with the trend and the target, the grid, the board, the review log
    assert 'class="spark"' in html and "<polyline" in html and "spark-target" in html
    assert "economic buyer" in html and "Lee Park" in html and "topics: budget" in html
    assert 'aria-label="Initiatives by state"' in html
    assert 'in progress (<span class="board-count">1</span>)' in html
    # a member's board is draggable, and each card has its Move form (keyboard, no script)
    assert 'class="board board-live"' in html and 'draggable="true"' in html
    assert 'name="csrfmiddlewaretoken"' in html and 'class="board-move"' in html
    assert f"/plans/{plan.id}?as_of=2026-06-08" in html and "kick-off" in html
    check(html, f"/plans/{plan.id}")
    then = member.get(f"/plans/{plan.id}?as_of=2026-06-08").content.decode()
    assert "As of 2026-06-08" in then
    week = member.get("/next?all=1").content.decode()
    assert "suggestion" in week and "Talk to" in week and "Lee Park" in week
    assert "no one on our team is warm with the economic buyer Lee Park" in week
    check(week, "/next")
    key = f"next:{plan.id}:{world['lee'].id}:gap"
    assert key in week
    resp = member.post("/next/tasks", {"key": key, "next": "/next?all=1"})
    assert resp.status_code == 302 and resp["Location"] == "/next?all=1"
    member.post("/next/tasks", {"key": key})
    made = Task.objects.filter(dedupe_key=key)
    assert made.count() == 1 and made[0].title.startswith("Talk to Lee Park (Acme)")


def test_a_viewer_sees_suggestions_but_makes_no_task(
    world: dict[str, Any], viewer: Client, time_travel: Any
) -> None:
    plan, _ = _busy_plan(time_travel)
    week = viewer.get("/next").content.decode()
    assert "Lee Park" in week and "Make a task" not in week
    key = f"next:{plan.id}:{world['lee'].id}:gap"
    assert viewer.post("/next/tasks", {"key": key}).status_code == 403
    assert not Task.objects.exists()


def test_a_review_from_the_plan_page(
    world: dict[str, Any], member: Client, viewer: Client, time_travel: Any
) -> None:
    plan, m = _busy_plan(time_travel)
    resp = member.post(
        f"/plans/{plan.id}/reviews", {"on": "2026-06-12", "notes": "went well", "decisions": "go"}
    )
    assert resp.status_code == 302 and resp["Location"] == f"/plans/{plan.id}?as_of=2026-06-12"
    review = Review.objects.get(plan=plan, notes="went well")
    assert (review.on.isoformat(), review.decisions) == ("2026-06-12", "go")
    # the computed measure got a reading on the review's day
    assert m.readings.filter(on="2026-06-12", source="review").count() == 1
    before = Review.objects.count()
    resp = member.post(f"/plans/{plan.id}/reviews", {"on": "2026-07-01", "notes": "later"})
    assert resp.status_code == 302 and Review.objects.count() == before  # the future: refused
    assert "is in the future" in member.get(resp["Location"]).content.decode()
    assert viewer.post(f"/plans/{plan.id}/reviews", {"notes": "x"}).status_code == 403
    assert Review.objects.count() == before


def test_moving_an_initiative_on_the_board(
    world: dict[str, Any], member: Client, viewer: Client
) -> None:
    plan = svc.add_plan(viewer=SYSTEM, account="Acme", name="Acme FY27", start="2026-06-01")
    goal = svc.add_goal(viewer=SYSTEM, plan=plan.id, text="Expand", due="2027-03-31")
    ini = svc.add_initiative(viewer=SYSTEM, goal=goal.id, title="Pilot in Ops")
    url = f"/initiatives/{ini.id}/state"
    # the Move button without script: a redirect back, with a notice
    resp = member.post(url, {"state": "in_progress", "next": f"/plans/{plan.id}"})
    assert resp.status_code == 302 and resp["Location"] == f"/plans/{plan.id}"
    ini.refresh_from_db()
    assert ini.fields["state"] == "in_progress"
    assert "Pilot in Ops is in progress." in member.get(f"/plans/{plan.id}").content.decode()
    # the drag and drop's request: JSON both ways; a bad state is one line, nothing changes
    resp = member.post(url, {"state": "done"}, HTTP_ACCEPT="application/json")
    assert resp.status_code == 200 and resp.json()["state"] == "done"
    resp = member.post(url, {"state": "shelved"}, HTTP_ACCEPT="application/json")
    assert resp.status_code == 400 and resp.json()["field"] == "state"
    assert resp.json()["error"].startswith("state: 'shelved' is not one of planned")
    ini.refresh_from_db()
    assert (ini.fields["state"], ini.fields["closure"]) == ("done", "achieved")
    # a viewer may not move it; an outside address is not followed
    assert viewer.post(url, {"state": "planned"}).status_code == 403
    resp = member.post(url, {"state": "planned", "next": "https://evil.test/"})
    assert resp["Location"] == "/plans"
    assert 'draggable="true"' not in viewer.get(f"/plans/{plan.id}").content.decode()
