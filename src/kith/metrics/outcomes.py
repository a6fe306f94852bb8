"""Outcome metrics: interactions at a scope with a typed outcome, and value events.

Outcomes rather than activity: ``outcomes`` counts interactions whose outcome is one of
the vocabulary's types (``kith.interactions.outcomes``) of a polarity, or the ones named;
``value.events`` counts the value events (go-live, ROI reported, expansion, reference
given). An interaction is at the scope when one of the scope's people (the person, or who
works at the organisation that day) takes part in it, or it is linked to the scope record.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db.models import Q

from kith.core.errors import ValidationError
from kith.interactions.models import Interaction, OutcomeType
from kith.interactions.outcomes import POLARITIES, outcome_key
from kith.metrics.catalogue import EVIDENCE_CAP, Context, Result, _plural, metric, people_of


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _named(ctx: Context) -> set[str] | None:
    raw = ctx.params.get("outcome") or ctx.params.get("outcomes")
    if raw is None or raw == "":
        return None
    items = raw if isinstance(raw, list) else str(raw).split(",")
    return {outcome_key(str(i)) for i in items if str(i).strip()} or None


def _count(ctx: Context, keys: set[str], what: str) -> Result:
    if not keys:
        return Result(0.0, 0, [f"no outcome types for {what}"], [])
    people = [p for p, _ in people_of(ctx)]
    at = Q(at__gte=_midnight(ctx.start), at__lt=_midnight(ctx.as_of + dt.timedelta(days=1)))
    touches = Q(links__record=ctx.record)
    if people:
        touches |= Q(participants__record_id__in=people) & ~Q(participants__role="mentioned")
    rows = list(
        Interaction.objects.filter(at, touches, deleted_at=None, outcome__in=sorted(keys))
        .values_list("id", "outcome", "at")
        .distinct()
        .order_by("-at", "-id")
    )
    by = Counter(o for _, o, _ in rows)
    span = f"in the {ctx.window} days to {ctx.as_of.isoformat()}"
    reasons = [f"{_plural(len(rows), what)} at {ctx.record.name} {span}"]
    if by:
        reasons.append(", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(by.items())))
    return Result(float(len(rows)), len(rows), reasons, [i for i, _, _ in rows[:EVIDENCE_CAP]])


@metric(
    "outcomes",
    "Interactions with an outcome",
    unit="interactions",
    scopes=("organization", "person"),
    params={
        "polarity": "positive, neutral or negative (default positive)",
        "outcome": "outcome keys to count instead (e.g. demo_booked,next_step_agreed)",
    },
)
def _outcomes(ctx: Context) -> Result:
    """Interactions at the scope in the window whose outcome is a type of a polarity."""
    named = _named(ctx)
    if named is not None:
        return _count(ctx, named, "interaction with " + ", ".join(sorted(named)))
    pol = str(ctx.params.get("polarity") or "positive").strip().lower()
    if pol not in POLARITIES:
        raise ValidationError(
            f"filter.polarity: {pol!r} is not one of {', '.join(POLARITIES)}", field="filter"
        )
    keys = set(OutcomeType.objects.filter(polarity=pol).values_list("key", flat=True))
    return _count(ctx, keys, f"interaction with a {pol} outcome")


@metric(
    "value.events",
    "Value events",
    unit="events",
    scopes=("organization", "person"),
    params={"outcome": "value-event keys to count (default every value event)"},
)
def _value_events(ctx: Context) -> Result:
    """Value events at the scope in the window (go-live, ROI reported, expansion ...)."""
    keys = set(OutcomeType.objects.filter(value_event=True).values_list("key", flat=True))
    named = _named(ctx)
    if named is not None:
        unknown = named - keys
        if unknown:
            raise ValidationError(
                f"filter.outcome: {', '.join(sorted(unknown))} is not a value event "
                f"(value events: {', '.join(sorted(keys))})",
                field="filter",
            )
        keys = named
    return _count(ctx, keys, "value event")
