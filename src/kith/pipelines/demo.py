"""Demo deals: the sales pipeline and a year of deals with realistic stage histories (most
advance a stage or two, some skip one, some go back, about a third are lost for a reason,
a quarter are won), on the anchor account and other organisations, each with an owner from
our team and a person of the account in a buying role; and the starter dashboards."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from kith.core import clock
from kith.core.viewer import SYSTEM
from kith.intelligence import aggregates as agg
from kith.pipelines import services
from kith.pipelines.dashboards import STARTERS
from kith.pipelines.models import Dashboard, LostReason, Pipeline, Stage
from kith.relationships.selectors import team_ids

SOURCES = ["referral", "web", "event", "outbound", "partner"]
REASONS = ["price", "competitor", "no_decision", "timing", "fit"]
ROLES = ["decision_maker", "champion", "economic_buyer", "influencer", "user"]


def seed_demo_deals(
    anchor_id: str, *, deals: int = 80, seed: int = 16, end: dt.date | None = None
) -> dict[str, Any]:
    """Deals over the year to ``end`` (today) for the anchor and other organisations."""
    rng = random.Random(seed)
    today = min(end or clock.today(), clock.today())
    if not Pipeline.objects.filter(pk="sales").exists():
        services.add_pipeline(
            type_key="deal",
            key="sales",
            label="Sales",
            stages=services.DEFAULT_DEAL_STAGES,
            reasons=REASONS,
        )
    stages = list(Stage.objects.filter(pipeline_id="sales").order_by("position"))
    reasons = list(LostReason.objects.filter(pipeline_id="sales").values_list("key", flat=True))
    opens = [s.key for s in stages if s.category == "open"]
    team = team_ids(today)
    jobs = agg.employment(today)
    team_set = set(team)
    by_org: dict[str, list[str]] = {}
    for person, org, _ in jobs:
        if person not in team_set:
            by_org.setdefault(org, []).append(person)
    orgs = sorted(o for o in by_org if o != anchor_id)
    rng.shuffle(orgs)
    accounts = [anchor_id] * 8 + orgs[: max(deals - 8, 0)]
    made = 0
    now = min(clock.now(), dt.datetime.combine(today, dt.time(18), tzinfo=dt.UTC))
    for i, account in enumerate(accounts[:deals]):
        start = now - dt.timedelta(days=rng.randrange(5, 360), hours=rng.randrange(24))
        people = sorted(by_org.get(account, []))
        contact = [(rng.choice(people), rng.choice(ROLES))] if people else []
        deal = services.add_deal(
            viewer=SYSTEM,
            account=account,
            name=f"Deal {i + 1}: {rng.choice(['Renewal', 'Expansion', 'Pilot', 'Project'])}",
            amount=float(rng.randrange(5, 200) * 500),
            owner=rng.choice(team) if team else None,
            contacts=contact,
            source=rng.choice(SOURCES),
            pipeline="sales",
            at=start,
        )
        made += 1
        at, pos = start, 0
        for _ in range(rng.randrange(0, 6)):
            at = at + dt.timedelta(days=rng.randrange(2, 30), hours=rng.randrange(24))
            if at >= now:
                break
            roll = rng.random()
            if roll < 0.22:
                why = rng.choice(reasons or REASONS)
                services.lose(viewer=SYSTEM, ref=deal.id, reason=why, at=at)
                break
            if (roll < 0.4 and pos == len(opens) - 1) or roll < 0.3:
                services.win(viewer=SYSTEM, ref=deal.id, at=at)
                break
            step = -1 if roll < 0.5 and pos > 0 else rng.choice((1, 1, 1, 2))
            pos = max(0, min(pos + step, len(opens) - 1))
            current = deal.fields.get("stage")
            target = opens[pos]
            if target == current:
                continue
            services.move(viewer=SYSTEM, ref=deal.id, stage=target, at=at)
            deal.fields["stage"] = target
    for key in STARTERS:
        if not Dashboard.objects.filter(pk=key).exists():
            services.save_dashboard(key=key, starter=key)
    return {"deals": made, "pipeline": "sales", "dashboards": sorted(STARTERS)}
