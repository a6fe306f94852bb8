"""kith next: the conversations to have, why, topics, introductions; a suggestion as a task."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kith.accounts.services import add_user
from kith.core.errors import NotFound
from kith.core.viewer import SYSTEM
from kith.network.selectors import path
from kith.plans import services as svc
from kith.plans.selectors import plans_list
from kith.plans.suggestions import next_conversations
from kith.relationships.services import relate
from kith.tasks.models import Task
from kith.testing import log, make_org, make_person


def _setup(world: dict[str, Any]) -> Any:
    plan = svc.add_plan(
        viewer=SYSTEM,
        account="Acme",
        name="Acme FY27",
        owner="mia@our.test",
        start="2026-06-01",
        sections={"desired_outcome": "a second department"},
    )
    svc.add_stakeholder(
        viewer=SYSTEM,
        plan=plan.id,
        person="Lee Park",
        role="economic_buyer",
        owner="mia@our.test",
        topics=["renewal budget"],
        every=30,
    )
    svc.add_stakeholder(
        viewer=SYSTEM,
        plan=plan.id,
        person="Ann Bell",
        role="champion",
        owner="tom@our.test",
        every=3,
    )
    return plan


def test_next_names_the_gap_with_evidence(world: dict[str, Any]) -> None:
    plan = _setup(world)
    view = next_conversations(SYSTEM)
    assert view["label"].startswith("suggestions")
    by = {p["member"]["name"]: p["conversations"] for p in view["people"]}
    mia = by["Mia Chen"]
    gap = next(c for c in mia if c["kind"] == "gap")
    assert gap["person"]["name"] == "Lee Park" and gap["label"] == "suggestion"
    assert gap["why"] == (
        "no one on our team is warm with the economic buyer Lee Park; "
        "Mia Chen met them 94 days ago, cadence 30"
    )
    assert gap["topics"] == ["renewal budget"] and gap["plan"]["id"] == plan.id
    tom = by["Tom Ray"]
    cadence = next(c for c in tom if c["kind"] == "cadence")  # last call 5 days ago, cadence 3
    assert cadence["person"]["name"] == "Ann Bell"
    assert [
        p["member"]["name"] for p in next_conversations(SYSTEM, member="tom@our.test")["people"]
    ] == ["Tom Ray"]
    with pytest.raises(NotFound):
        next_conversations(SYSTEM, member="nobody@our.test")


def test_an_introduction_path_when_nobody_knows_them(world: dict[str, Any]) -> None:
    plan = _setup(world)
    dana = make_person("Dana Fox", org=world["acme"], role="CEO")
    relate(a=world["ann"].id, type_name="reports_to", b=dana.id)
    svc.add_stakeholder(viewer=SYSTEM, plan=plan.id, person=dana.id, role="decision_maker")
    mia = next(p for p in next_conversations(SYSTEM)["people"] if p["member"]["name"] == "Mia Chen")
    gap = next(c for c in mia["conversations"] if c["person"]["name"] == "Dana Fox")
    assert "nobody has had two-way contact with them yet" in gap["why"]
    assert gap["introduction"] is not None and gap["introduction"]["via"].startswith("Tom Ray")
    assert gap["topics"] == ["the plan's outcome: a second department"]


def test_goal_at_risk_and_initiative_due(world: dict[str, Any]) -> None:
    plan = _setup(world)
    goal = svc.add_goal(viewer=SYSTEM, plan=plan.id, text="Refs", owner="tom@our.test")
    m = svc.add_measure(viewer=SYSTEM, goal=goal.id, target=10, by="2027-01-01", baseline=0)
    svc.record_reading(viewer=SYSTEM, measure_id=m.id, value=0, on="2026-06-01")
    svc.record_reading(viewer=SYSTEM, measure_id=m.id, value=0.1, on="2026-06-10")
    svc.add_initiative(
        viewer=SYSTEM,
        goal=goal.id,
        title="Pilot",
        owner="tom@our.test",
        their_owner="Ann Bell",
        due="2026-06-20",
    )
    svc.add_initiative(
        viewer=SYSTEM, goal=goal.id, title="Later", owner="tom@our.test", due="2026-12-20"
    )
    tom = next(p for p in next_conversations(SYSTEM)["people"] if p["member"]["name"] == "Tom Ray")
    kinds = {c["kind"]: c for c in tom["conversations"]}
    assert kinds["goal"]["why"].startswith("goal 'Refs' is off track: Refs: 0.1 (baseline 0")
    assert kinds["initiative"]["why"] == "initiative 'Pilot' is due 2026-06-20"
    assert kinds["initiative"]["person"]["name"] == "Ann Bell"
    assert sum(1 for c in tom["conversations"] if c["kind"] == "initiative") == 1


def test_a_suggestion_becomes_one_task(world: dict[str, Any], settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    add_user(email="mia@our.test", role="member", password="a long password 1")
    _setup(world)
    mia = next(p for p in next_conversations(SYSTEM)["people"] if p["member"]["name"] == "Mia Chen")
    key = mia["conversations"][0]["key"]
    t1 = svc.suggestion_to_task(viewer=SYSTEM, key=key)
    t2 = svc.suggestion_to_task(viewer=SYSTEM, key=key)
    assert t1.id == t2.id and Task.objects.filter(dedupe_key=key).count() == 1
    assert t1.owner is not None and t1.owner.username == "mia@our.test"
    assert t1.title == "Talk to Lee Park (Acme)" and "94 days ago" in t1.notes
    assert t1.source == "plan"
    with pytest.raises(NotFound, match="key: no suggestion 'next:x'"):
        svc.suggestion_to_task(viewer=SYSTEM, key="next:x")


def _account_plan(n: int, tom: Any) -> None:
    """Another account with a plan: a stakeholder Tom knows, a goal off track, an initiative."""
    org = make_org(f"Org {n}")
    them = make_person(f"Buyer {n}", org=org, role="CFO")
    log("meeting", tom, them, at="2026-06-01T10:00Z")
    plan = svc.add_plan(viewer=SYSTEM, account=org.id, name=f"Plan {n}", owner="tom@our.test")
    svc.add_stakeholder(viewer=SYSTEM, plan=plan.id, person=them.id, role="champion", every=7)
    goal = svc.add_goal(viewer=SYSTEM, plan=plan.id, text=f"Goal {n}", owner="tom@our.test")
    m = svc.add_measure(viewer=SYSTEM, goal=goal.id, target=10, by="2027-01-01", baseline=0)
    svc.record_reading(viewer=SYSTEM, measure_id=m.id, value=0, on="2026-06-01")
    svc.record_reading(viewer=SYSTEM, measure_id=m.id, value=0.1, on="2026-06-10")
    svc.add_initiative(
        viewer=SYSTEM, goal=goal.id, title=f"Step {n}", due="2026-06-20", their_owner=them.id
    )


def test_next_and_the_plans_list_cost_the_same_queries_for_more_plans(
    world: dict[str, Any],
) -> None:
    def cost() -> tuple[int, int, int]:
        with CaptureQueriesContext(connection) as nxt:
            got = next_conversations(SYSTEM)
        with CaptureQueriesContext(connection) as listed:
            plans_list(SYSTEM)
        said = sum(len(p["conversations"]) for p in got["people"])
        return len(nxt.captured_queries), len(listed.captured_queries), said

    for n in range(2):
        _account_plan(n, world["tom"])
    few = cost()
    for n in range(2, 6):
        _account_plan(n, world["tom"])
    many = cost()
    # every plan says three things (cadence, goal off track, initiative due) ...
    assert (few[2], many[2]) == (6, 18)
    # ... in the same number of queries
    assert many[:2] == few[:2]


def test_every_stranger_gets_the_introduction_kith_path_ranks_first(
    world: dict[str, Any],
) -> None:
    plan = svc.add_plan(viewer=SYSTEM, account="Acme", name="P", owner="mia@our.test")
    strangers = [make_person(f"Stranger {i}", org=world["acme"]) for i in range(30)]
    for p in strangers:
        svc.add_stakeholder(viewer=SYSTEM, plan=plan.id, person=p.id, role="user")
    for p in strangers[:20]:  # Ann (Tom talks with her often) knows two thirds of them
        relate(a=world["ann"].id, type_name="knows", b=p.id)
    got = next_conversations(SYSTEM)
    intros = {
        c["person"]["id"]: c["introduction"]
        for person in got["people"]
        for c in person["conversations"]
        if c["person"]["name"].startswith("Stranger")
    }
    assert len(intros) == 30  # every one searched: no bound per call any more
    for p in strangers:
        best = path(SYSTEM, p.id, max_hops=3, k=1)["paths"]
        intro = intros[p.id]
        if not best:
            assert intro is None
            continue
        names = [best[0]["steps"][0]["from"]["name"]] + [s["to"]["name"] for s in best[0]["steps"]]
        assert intro == {"strength": best[0]["strength"], "hops": best[0]["hops"],
                         "via": " → ".join(names)}  # fmt: skip
    assert sum(1 for i in intros.values() if i and "Ann Bell" in i["via"]) >= 20
