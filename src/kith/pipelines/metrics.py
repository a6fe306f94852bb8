"""The deal metrics in the one catalogue: won amount, open pipeline, win rate.

Computed for an account (the deals ``deal_for`` it), a person (the deals they are on),
or the home organisation (every deal: the whole business), as of a day from the stage
history: a deal's state that day is its last stage change up to the end of the day, so a
recomputed past value equals that day's. Deals the viewer may not see are not counted.
Amounts are added as they are; when the deals are in several currencies the reasons say
so. Registered on import (``PipelinesConfig.ready``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from kith.core.viewer import Viewer
from kith.metrics.catalogue import Context, Result, metric
from kith.pipelines.models import StageChange
from kith.records.selectors import home_org, visible_q
from kith.relationships.models import Relationship

SCOPES = ("organization", "person")


@dataclass(frozen=True)
class DealState:
    id: str
    name: str
    category: str
    at: dt.datetime  # when it reached its state
    probability: float
    amount: float
    currency: str


def _end(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def deal_states(
    ctx: Context, categories: tuple[str, ...] = (), since: dt.datetime | None = None
) -> list[DealState]:
    """Each deal of the scope that ``ctx.viewer`` may see, as of ``ctx.as_of`` (only those
    whose stage that day is of ``categories``, reached ``since``, when given: in the query)."""
    scope = Q(record__type_id="deal", record__deleted_at=None) & visible_q(ctx.viewer, "record__")
    home = home_org()
    if home is None or ctx.record.pk != home.pk:
        rels = Relationship.objects
        scope &= Q(
            record_id__in=rels.filter(type_id="deal_for", to_record=ctx.record).values(
                "from_record_id"
            )
        ) | Q(
            record_id__in=rels.filter(type_id="on_deal", from_record=ctx.record).values(
                "to_record_id"
            )
        )
    end = _end(ctx.as_of)
    rows = (
        # the change each deal was at that day: made by then and not left by then
        StageChange.objects.filter(scope, at__lt=end)
        .filter(Q(left_at__isnull=True) | Q(left_at__gte=end))
        .filter(**({"to_stage__category__in": categories} if categories else {}))
        .filter(**({"at__gte": since} if since else {}))
        .values_list(
            "record_id",
            "record__name",
            "to_stage__category",
            "at",
            "to_stage__probability",
            "record__fields",
        )
    )
    out = []
    for rid, name, cat, at, prob, fields in rows:
        got = fields if isinstance(fields, dict) else {}
        amount = got.get("amount")
        out.append(
            DealState(
                rid,
                name,
                cat,
                at,
                float(prob),
                float(amount) if isinstance(amount, int | float) else 0.0,
                str(got.get("currency") or ""),
            )
        )
    return sorted(out, key=lambda d: (d.at, d.id))


def _money(states: list[DealState], total: float) -> str:
    cur = sorted({d.currency for d in states if d.currency})
    if len(cur) > 1:
        return f"{total:,.2f} (in {', '.join(cur)}, added without conversion)"
    return f"{total:,.2f} {cur[0]}" if cur else f"{total:,.2f}"


def _named(states: list[DealState]) -> str:
    top = sorted(states, key=lambda d: (-d.amount, d.name))[:3]
    more = f" and {len(states) - 3} more" if len(states) > 3 else ""
    return ", ".join(f"{d.name} ({d.amount:,.0f})" for d in top) + more


def _closed_in_window(ctx: Context, category: str) -> list[DealState]:
    start = dt.datetime.combine(ctx.start, dt.time(), tzinfo=dt.UTC)
    return deal_states(ctx, (category,), start)


@metric("deals.won", "Won amount", unit="amount", scopes=SCOPES)
def _won(ctx: Context) -> Result:
    """The amount of the deals won in the window (their last move, to a won stage)."""
    won = _closed_in_window(ctx, "won")
    total = sum(d.amount for d in won)
    reasons = [
        f"{len(won)} deal{'s' if len(won) != 1 else ''} won in the {ctx.window} days to "
        f"{ctx.as_of.isoformat()}: {_money(won, total)}"
    ]
    if won:
        reasons.append(_named(won))
    return Result(round(total, 2), len(won), reasons, [d.id for d in won][:50])


@metric("deals.open", "Open pipeline", unit="amount", scopes=SCOPES)
def _open(ctx: Context) -> Result:
    """The amount of the deals open at the end of the day (and, in the reasons, weighted
    by their stage's probability)."""
    live = deal_states(ctx, ("open",))
    total = sum(d.amount for d in live)
    weighted = sum(d.amount * d.probability for d in live)
    reasons = [
        f"{len(live)} open deal{'s' if len(live) != 1 else ''} on {ctx.as_of.isoformat()}: "
        f"{_money(live, total)}; weighted by stage probability {weighted:,.2f}"
    ]
    if live:
        reasons.append(_named(live))
    return Result(round(total, 2), len(live), reasons, [d.id for d in live][:50])


@metric("deals.win_rate", "Win rate", unit="%", scopes=SCOPES)
def _win_rate(ctx: Context) -> Result:
    """Deals won of the deals closed (won or lost) in the window, in per cent."""
    start = dt.datetime.combine(ctx.start, dt.time(), tzinfo=dt.UTC)
    closed = deal_states(ctx, ("won", "lost"), start)
    won = [d for d in closed if d.category == "won"]
    if not closed:
        return Result(None, 0, [f"no deal was won or lost in the {ctx.window} days"], [])
    rate = 100.0 * len(won) / len(closed)
    reasons = [
        f"{len(won)} won of {len(closed)} closed in the {ctx.window} days to "
        f"{ctx.as_of.isoformat()}"
    ]
    return Result(round(rate, 1), len(closed), reasons, [d.id for d in closed][:50])


def won_revenue(viewer: Viewer, day: dt.date) -> dict[str, float]:
    """Record id -> the amount of the deals won in the 365 days to ``day`` (still won that
    day) for an account (``deal_for``) or with a person on them (``on_deal``): the value
    ``kith best`` ranks by once deals are won (``kith.intelligence.value``). Deals the
    viewer may not see add nothing."""
    end = _end(day)
    start = end - dt.timedelta(days=365)
    won = dict(
        StageChange.objects.filter(
            visible_q(viewer, "record__"),
            record__deleted_at=None,
            to_stage__category="won",
            at__gte=start,
            at__lt=end,
        )
        .filter(Q(left_at__isnull=True) | Q(left_at__gte=end))
        .values_list("record_id", "record__fields")
    )
    if not won:
        return {}
    out: dict[str, float] = {}
    rels = Relationship.objects.filter(
        Q(type_id="deal_for", from_record_id__in=list(won))
        | Q(type_id="on_deal", to_record_id__in=list(won))
    ).values_list("type_id", "from_record_id", "to_record_id")
    for kind, a, b in rels:
        deal, who = (a, b) if kind == "deal_for" else (b, a)
        fields = won[deal]
        amount = fields.get("amount") if isinstance(fields, dict) else None
        if isinstance(amount, int | float):
            out[who] = out.get(who, 0.0) + float(amount)
    return out
