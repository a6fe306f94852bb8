"""A demo plan on the demo workspace's anchor account, so every plan screen shows data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Q

from kith.core import clock
from kith.core.viewer import SYSTEM
from kith.intelligence import aggregates as agg
from kith.intelligence.conf import model_config
from kith.intelligence.engine import compute
from kith.interactions.models import Interaction
from kith.interactions.services import edit_interaction
from kith.metrics.selectors import measure
from kith.plans import services as svc
from kith.plans.models import Measure
from kith.records.models import Record
from kith.relationships.selectors import team_ids

ROLES = ["economic_buyer", "champion", "decision_maker", "influencer", "user"]
# the outcomes given to the anchor account's meetings, in turn from the newest: mostly
# positive, some neutral and negative, and a value event every sixth among the latest
OUTCOMES = [
    "next_step_agreed",
    "demo_booked",
    "no_decision",
    "next_step_agreed",
    "proposal_requested",
    "objection_raised",
]
VALUE_EVENTS = ["go_live", "reference_given", "roi_reported"]
MAX_OUTCOMES = 36


def seed_demo_outcomes(account_id: str) -> int:
    """Typed outcomes on every other one of the anchor account's latest past meetings, so
    the outcome metrics read over the default 90 days too (the demo's generator
    gives none, and its rows stay as they are), through the interactions' service so
    history, scores and timelines follow; returns how many meetings were given one."""
    end = dt.datetime.combine(clock.today(), dt.time(), tzinfo=dt.UTC)
    staff = agg.employment(clock.today(), account_id)
    ids = list(
        Interaction.objects.filter(
            Q(participants__record_id__in=[p for p, _, _ in staff])
            | Q(links__record_id=account_id),
            kind="meeting",
            outcome="",
            deleted_at=None,
            at__lt=end,
        )
        .values_list("id", flat=True)
        .distinct()
        .order_by("-at", "-id")
    )
    chosen = ids[::2][:MAX_OUTCOMES][::-1]  # every other one of the latest, oldest first
    for n, iid in enumerate(chosen):
        k = len(chosen) - 1 - n  # 0 for the newest
        value = k % 6 == 5 and k // 6 < len(VALUE_EVENTS)
        outcome = VALUE_EVENTS[k // 6] if value else OUTCOMES[k % len(OUTCOMES)]
        edit_interaction(interaction_id=iid, values={"outcome": outcome})
    return len(chosen)


@transaction.atomic
def seed_demo_plan(account_id: str) -> dict[str, Any]:
    """A plan begun 90 days ago: two computed goals with weekly readings since, the
    account's best-known people as stakeholders, an initiative and a first review; and
    typed outcomes on some of the account's meetings (``seed_demo_outcomes``)."""
    today = clock.today()
    start = today - dt.timedelta(days=90)
    account = Record.objects.get(pk=account_id)
    outcomes = seed_demo_outcomes(account.id)
    team = team_ids(today)
    snap = compute(model_config(), today, ("org", account.id))
    staff = [p for p, _, _ in agg.employment(today, account.id) if p not in team]
    staff.sort(key=lambda p: (-snap.person_score.get(p, 0.0), p))
    warm = [m for _, m in sorted(t for p in staff for t in snap.ties.get(p, []))[::-1]]
    owner = warm[0] if warm else (team[0] if team else None)
    plan = svc.add_plan(
        viewer=SYSTEM,
        account=account.id,
        name=f"{account.name} relationship plan",
        owner=owner,
        start=start,
        end=today + dt.timedelta(days=275),
        review_every=30,
        sections={"desired_outcome": f"{account.name} treats us as its first call"},
    )
    goal = svc.add_goal(
        viewer=SYSTEM,
        plan=plan.id,
        text="Broaden the relationship",
        owner=owner,
        due=today + dt.timedelta(days=180),
    )
    now_engaged = measure(SYSTEM, "people.engaged", account, as_of=start).value or 0
    now_touch = measure(SYSTEM, "team.in_touch", account, as_of=start).value or 0
    engaged = svc.add_measure(
        viewer=SYSTEM,
        goal=goal.id,
        metric="people.engaged",
        target=now_engaged + 5,
        by=today + dt.timedelta(days=180),
    )
    svc.add_measure(
        viewer=SYSTEM,
        goal=goal.id,
        metric="team.in_touch",
        target=now_touch + 2,
        by=today + dt.timedelta(days=180),
    )
    execs = svc.add_goal(viewer=SYSTEM, plan=plan.id, text="Regular executive time", owner=owner)
    svc.add_measure(
        viewer=SYSTEM,
        goal=execs.id,
        metric="exec.days_since_meeting",
        target=30,
        by=today + dt.timedelta(days=120),
        direction="decrease",
        baseline="auto",
    )
    for person, role in zip(staff, ROLES, strict=False):
        svc.add_stakeholder(
            viewer=SYSTEM,
            plan=plan.id,
            person=person,
            role=role,
            owner=owner,
            topics=["renewal", "next year's priorities"] if role == "economic_buyer" else [],
            every=30,
        )
    svc.add_initiative(
        viewer=SYSTEM,
        goal=goal.id,
        title="Executive briefing",
        owner=owner,
        their_owner=staff[0] if staff else None,
        due=today + dt.timedelta(days=10),
        state="in_progress",
    )
    day = start
    while day <= today:
        for m in Measure.objects.filter(goal__in=[goal, execs]).exclude(metric=""):
            svc._take(m, account, day, "computed")
        day += dt.timedelta(days=7)
    svc.add_review(
        viewer=SYSTEM, plan=plan.id, notes="First review", on=start + dt.timedelta(days=30)
    )
    return {"plan": plan.id, "measure": engaged.id, "outcomes": outcomes}
