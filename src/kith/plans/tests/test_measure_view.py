"""A measure can target a saved view: its readings are the metric for the view's records
(``kith metric show KEY --view NAME``), taken by the worker, recomputed as of any day,
with privacy in the view's query; a deleted view is said, not measured as the account."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_owned_record, add_user
from kith.core.errors import NotFound, ValidationError
from kith.core.viewer import SYSTEM, Viewer
from kith.lists.models import SavedView
from kith.lists.services import save_view
from kith.metrics.selectors import show_view
from kith.plans import services as svc
from kith.plans.selectors import plan_view, readings
from kith.testing import log, make_org, make_person


def _user(email: str) -> Viewer:
    add_user(email=email, role="member", password="a long password 1")
    return viewer_of(get_user(email))


@pytest.fixture
def views(world: dict[str, Any], settings: Any) -> dict[str, Any]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    zeta = make_org("Zeta")
    zed = make_person("Zed Ko", org=zeta, role="CEO")
    log("meeting", world["tom"], zed, at="2026-06-05T10:00Z")
    log("call", world["mia"], zed, at="2026-06-12T10:00Z")
    jane = _user("jane@our.test")
    save_view(viewer=jane, type_key="organization", name="Accounts", query={})
    plan = svc.add_plan(viewer=jane, account="Acme", name="Acme FY27", start="2026-06-01")
    goal = svc.add_goal(viewer=jane, plan=plan.id, text="Broaden the portfolio", due="2027-03-31")
    return {"jane": jane, "plan": plan, "goal": goal, "zed": zed, "zeta": zeta}


def test_a_measure_of_a_saved_view(
    cli: Any, world: dict[str, Any], views: dict[str, Any], time_travel: Any
) -> None:
    jane, goal = views["jane"], views["goal"]
    m = svc.add_measure(
        viewer=jane,
        goal=goal.id,
        metric="interactions.two_way",
        target=40,
        by="2027-03-31",
        view="Accounts",
    )
    assert m.view is not None and m.view_name == "Accounts"
    assert m.label == "Two-way interactions of the view Accounts"
    asked = show_view(jane, "interactions.two_way", "Accounts")
    own = show_view(jane, "interactions.two_way", "Accounts", as_of="2026-06-01")
    # the baseline is the view's value on the plan's start, today's reading the view's today
    assert m.baseline_on is not None and m.baseline_value == own["value"]
    state = plan_view(SYSTEM, views["plan"].id)["goals"][0]["measures"][0]
    assert state["scope"] == {"type": "view", "id": m.view_id, "name": "Accounts", "deleted": False}
    assert state["now"]["value"] == asked["value"] == 6  # Acme's 5 and Zeta's 2 ... less ours
    assert state["now"]["reasons"][0].startswith("the sum over the 2 organization records")
    # the worker's daily readings and a recomputation as of each day agree
    for _ in range(3):
        time_travel.advance(days=7)
        log("meeting", world["mia"], views["zed"], at=time_travel.now().isoformat())
        svc.take_readings()
    got = readings(SYSTEM, m.id, recompute=True)["readings"]
    assert [r["value"] for r in got] == [6, 7, 8, 9]
    assert all(r["value"] == r["recomputed"] for r in got)
    # the CLI and the API add one the same way
    code, out, err = cli(
        "measure", "add", goal.id, "--metric", "people.engaged", "--target", "12", "--by",
        "2027-03-31", "--view", "Accounts", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["name"] == "People engaged of the view Accounts"
    # the view deleted: its readings say so; the account is not measured in its place
    SavedView.objects.filter(name="Accounts").delete()
    svc.take_readings()  # today's reading again, as the worker takes it
    state = plan_view(SYSTEM, views["plan"].id)["goals"][0]["measures"][0]
    assert state["now"]["value"] is None and state["scope"]["deleted"]
    assert state["now"]["reasons"] == ["the saved view 'Accounts' was deleted"]


def test_a_view_measure_refused_in_one_line(
    cli: Any, world: dict[str, Any], views: dict[str, Any]
) -> None:
    goal = views["goal"].id
    jane = views["jane"]
    with pytest.raises(NotFound, match="view: no saved view 'Nope'"):
        svc.add_measure(
            viewer=jane, goal=goal, metric="health", target=1, by="2027-01-01", view="Nope"
        )
    with pytest.raises(ValidationError, match=r"view: roles\.filled is measured for a plan"):
        svc.add_measure(
            viewer=jane,
            goal=goal,
            metric="roles.filled",
            target=3,
            by="2027-01-01",
            view="Accounts",
        )
    with pytest.raises(ValidationError, match="view: 'Accounts' needs a --metric"):
        svc.add_measure(viewer=jane, goal=goal, target=3, by="2027-01-01", view="Accounts")
    other = _user("other@our.test")  # another member's view is not theirs to name
    with pytest.raises(NotFound, match="view: no saved view 'Accounts'"):
        svc.add_measure(
            viewer=other, goal=goal, metric="health", target=1, by="2027-01-01", view="Accounts"
        )
    code, out, err = cli(
        "measure", "add", goal, "--target", "1", "--by", "2027-01-01", "--view", "Nope",
        "--metric", "health",
    )  # fmt: skip
    assert code == 1 and out == "" and err.strip() == "error: view: no saved view 'Nope'"


def test_a_view_measure_counts_only_what_the_viewer_may_see(
    world: dict[str, Any], views: dict[str, Any]
) -> None:
    jane = views["jane"]
    owner = get_user("jane@our.test")
    hidden = add_owned_record(user=owner, private=True, type_key="organization", name="Hidden Co")
    spy = make_person("Sly Spy", org=hidden)
    log("meeting", world["mia"], spy, at="2026-06-13T10:00Z")
    m = svc.add_measure(
        viewer=jane,
        goal=views["goal"].id,
        metric="interactions.two_way",
        target=40,
        by="2027-03-31",
        view="Accounts",
    )
    mine = plan_view(jane, views["plan"].id)["goals"][0]["measures"][0]
    assert mine["now"]["value"] == 7  # Jane owns Hidden Co: its meeting counts for her
    theirs = plan_view(_user("other@our.test"), views["plan"].id)["goals"][0]["measures"][0]
    assert theirs["now"]["value"] == 6
    assert "Hidden Co" not in json.dumps(theirs) and spy.id not in json.dumps(theirs)
    # the stored readings are the whole workspace's: a member hidden something gets none
    assert readings(SYSTEM, m.id)["readings"][0]["value"] == 7
