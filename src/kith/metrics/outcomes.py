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
from kith.intelligence import aggregates as agg
from kith.interactions.models import Interaction, InteractionLink, OutcomeType, Participant
from kith.interactions.outcomes import POLARITIES, outcome_key
from kith.metrics.catalogue import EVIDENCE_CAP, Context, Result, _plural, batch, metric
from kith.relationships.selectors import team_ids


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _named(ctx: Context) -> set[str] | None:
    raw = ctx.params.get("outcome") or ctx.params.get("outcomes")
    if raw is None or raw == "":
        return None
    items = raw if isinstance(raw, list) else str(raw).split(",")
    return {outcome_key(str(i)) for i in items if str(i).strip()} or None


def _count(ctx: Context, keys: set[str], what: str) -> Result:
    return _count_many([ctx], keys, what)[0]


def _count_many(ctxs: list[Context], keys: set[str], what: str) -> list[Result]:
    """``_count`` for many scopes of one day, window and viewer: three queries in all."""
    if not keys:
        return [Result(0.0, 0, [f"no outcome types for {what}"], []) for _ in ctxs]
    c0 = ctxs[0]
    people: dict[str, set[str]] = {c.record.id: set() for c in ctxs}
    for c in ctxs:
        if c.record.type_id == "person":
            people[c.record.id].add(c.record.id)
    orgs = tuple(sorted({c.record.id for c in ctxs if c.record.type_id != "person"}))
    if orgs:
        team = set(team_ids(c0.as_of))
        for p, o, _ in agg.employment(
            c0.as_of, orgs if len(orgs) > 1 else orgs[0], viewer=c0.viewer
        ):
            if p not in team and o in people:
                people[o].add(p)
    scope_of: dict[str, set[str]] = {}
    for rid, ps in people.items():
        for p in ps:
            scope_of.setdefault(p, set()).add(rid)
    at = Q(at__gte=_midnight(c0.start), at__lt=_midnight(c0.as_of + dt.timedelta(days=1)))
    wanted = Interaction.objects.filter(at, deleted_at=None, outcome__in=sorted(keys))
    found: dict[str, dict[str, tuple[dt.datetime, str]]] = {rid: {} for rid in people}
    rows = (
        Participant.objects.filter(interaction__in=wanted, record_id__in=list(scope_of))
        .exclude(role="mentioned")
        .values_list("interaction_id", "record_id", "interaction__at", "interaction__outcome")
    )
    for iid, rid, when, outcome in rows:
        for scope in scope_of[rid]:
            found[scope][iid] = (when, outcome)
    links = InteractionLink.objects.filter(
        interaction__in=wanted, record_id__in=list(people)
    ).values_list("interaction_id", "record_id", "interaction__at", "interaction__outcome")
    for iid, rid, when, outcome in links:
        found[rid][iid] = (when, outcome)
    span = f"in the {c0.window} days to {c0.as_of.isoformat()}"
    many = what.replace("interaction ", "interactions ", 1)
    out = []
    for c in ctxs:
        mine = sorted(found[c.record.id].items(), key=lambda kv: (kv[1][0], kv[0]), reverse=True)
        by = Counter(o for _, (_, o) in mine)
        reasons = [f"{_plural(len(mine), what, many)} at {c.record.name} {span}"]
        if by:
            reasons.append(", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(by.items())))
        evidence = [i for i, _ in mine[:EVIDENCE_CAP]]
        out.append(Result(float(len(mine)), len(mine), reasons, evidence))
    return out


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
    keys, what = _outcome_keys(ctx)
    return _count(ctx, keys, what)


@metric(
    "value.events",
    "Value events",
    unit="events",
    scopes=("organization", "person"),
    params={"outcome": "value-event keys to count (default every value event)"},
)
def _value_events(ctx: Context) -> Result:
    """Value events at the scope in the window (go-live, ROI reported, expansion ...)."""
    return _count(ctx, _value_keys(ctx), "value event")


def _outcome_keys(ctx: Context) -> tuple[set[str], str]:
    named = _named(ctx)
    if named is not None:
        return named, "interaction with " + ", ".join(sorted(named))
    pol = str(ctx.params.get("polarity") or "positive").strip().lower()
    if pol not in POLARITIES:
        raise ValidationError(
            f"filter.polarity: {pol!r} is not one of {', '.join(POLARITIES)}", field="filter"
        )
    keys = set(OutcomeType.objects.filter(polarity=pol).values_list("key", flat=True))
    return keys, f"interaction with a {pol} outcome"


def _value_keys(ctx: Context) -> set[str]:
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
    return keys


@batch("outcomes")
def _outcomes_many(ctxs: list[Context]) -> list[Result]:
    keys, what = _outcome_keys(ctxs[0])
    return _count_many(ctxs, keys, what)


@batch("value.events")
def _value_events_many(ctxs: list[Context]) -> list[Result]:
    return _count_many(ctxs, _value_keys(ctxs[0]), "value event")
