"""Quarterly NPS on the demo workspace: a rising, a falling and a flat account, so the
voice series, its trend and its projection show on real-looking data (``kith demo``)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.db import transaction
from django.db.models import Count

from kith.core import clock
from kith.records.models import Record
from kith.relationships.models import Relationship
from kith.relationships.selectors import team_ids
from kith.surveys import services
from kith.surveys.models import Survey
from kith.surveys.voice import periods

QUARTERS = 6
# NPS aimed at per quarter, oldest first
SHAPES = {
    "rising": [-10, 5, 15, 25, 40, 50],
    "falling": [45, 35, 20, 10, -5, -15],
    "flat": [20, 25, 15, 20, 25, 20],
}
COMMENTS = {
    "promoter": ["Great team, always responsive.", "The new reports save us hours."],
    "passive": ["Fine overall.", "Does what we need."],
    "detractor": ["Support is slow and the bugs keep coming.", "Too expensive for what we get."],
}


def _staff(org: str, day: dt.date) -> list[str]:
    ours = set(team_ids(day))
    return sorted(
        set(
            Relationship.objects.filter(
                to_record_id=org, type__rollup=True, until__isnull=True
            ).values_list("from_record_id", flat=True)
        )
        - ours
    )


@transaction.atomic
def seed_demo_surveys(
    anchor_id: str, *, seed: int = 7, end: dt.date | None = None
) -> dict[str, Any]:
    """Six quarters of NPS answers to ``end`` (the demo data's last day, default today): the
    anchor rising, two other accounts falling and flat."""
    today = min(end or clock.today(), clock.today())
    rng = random.Random(seed)
    survey = Survey.objects.filter(name="Quarterly NPS").first() or services.add_survey(
        kind="nps", question="How likely are you to recommend us to a colleague?",
        name="Quarterly NPS", followup="What is the main reason for your score?",
    )  # fmt: skip
    ours = set(team_ids(today))
    others = [
        r["to_record_id"]
        for r in Relationship.objects.filter(type__rollup=True, until__isnull=True)
        .exclude(to_record_id=anchor_id)
        .exclude(from_record_id__in=ours)
        .values("to_record_id")
        .annotate(n=Count("id"))
        .order_by("-n", "to_record_id")[:2]
    ]
    accounts = dict(zip([anchor_id, *others], SHAPES, strict=False))
    spans = periods(today, "quarter", QUARTERS)
    logged = 0
    records = Record.objects.in_bulk([*accounts])
    for org, shape in accounts.items():
        people = list(Record.objects.filter(pk__in=_staff(org, today)).order_by("id"))
        if not people:
            continue
        for k, (span, target) in enumerate(zip(spans, SHAPES[shape], strict=True)):
            days = max((span.end - span.start).days, 1)
            t = target / 100
            promoter, detractor = (0.7 + t) / 2, (0.7 - t) / 2
            n = 7 + rng.randrange(3)
            prom, det = round(n * promoter), round(n * detractor)
            groups = ["promoter"] * prom + ["detractor"] * det + ["passive"] * (n - prom - det)
            rng.shuffle(groups)
            for j, group in enumerate(groups):
                score = {"promoter": rng.choice([9, 10]), "passive": rng.choice([7, 8]),
                         "detractor": rng.randrange(2, 7)}[group]  # fmt: skip
                at = dt.datetime.combine(span.start + dt.timedelta(days=rng.randrange(days)),
                                         dt.time(10 + rng.randrange(8)), tzinfo=dt.UTC)  # fmt: skip
                if at.date() > today:
                    continue
                services.log_response(
                    survey=survey, person=people[(k * 7 + j) % len(people)],
                    account=records[org], score=float(score),
                    comment=rng.choice(COMMENTS[group]) if rng.random() < 0.6 else "",
                    at=at, external_id=f"demo-nps:{org}:{span.label}:{j}", source="demo",
                )  # fmt: skip
                logged += 1
    names = dict(Record.objects.filter(pk__in=list(accounts)).values_list("id", "name"))
    return {"survey": survey.id, "answers": logged,
            "accounts": {names.get(o, o): s for o, s in accounts.items()}}  # fmt: skip
