"""The scoring model as pure functions of aggregates and an as-of date (see MODEL.md).

Nothing here touches the database: selectors aggregate rows in SQL and hand the sums in,
so the same inputs always give the same score, factors and reasons.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from kith.intelligence.conf import band


@dataclass
class PairAgg:
    """Sums over one pair's rows up to the as-of day."""

    n: int = 0
    n_two: int = 0
    n_in: int = 0
    n_out: int = 0
    first_two: dt.date | None = None
    last_two: dt.date | None = None
    two_days: int = 0  # distinct days with two-way contact
    recent_weight: float = 0.0  # depth-weighted two-way interactions in the frequency window
    depth_sum: float = 0.0  # depth-weighted two-way interactions, all time


@dataclass
class Score:
    score: float
    band: str
    factors: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 1),
            "band": self.band,
            "factors": self.factors,
            "reasons": self.reasons,
            **self.extra,
        }


def _factor(name: str, value: float, contribution: float) -> dict[str, Any]:
    return {"name": name, "value": round(value, 3), "contribution": round(contribution, 1)}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _pair_numbers(
    cfg: dict[str, Any], agg: PairAgg, as_of: dt.date
) -> tuple[float, float, float, dict[str, float], float, int, int]:
    assert agg.first_two is not None and agg.last_two is not None
    if agg.two_days >= 2:
        cadence = (agg.last_two - agg.first_two).days / (agg.two_days - 1)
    else:
        cadence = float(cfg["default_cadence_days"])
    cadence = min(max(cadence, cfg["min_cadence_days"]), cfg["max_cadence_days"])
    tenure_days = max((as_of - agg.first_two).days, 0)
    tenure = min(tenure_days / cfg["tenure_full_days"], 1.0)
    gap = max((as_of - agg.last_two).days, 0)
    half_life = max(cadence, cfg["min_half_life_days"]) * (1 + cfg["tenure_slowdown"] * tenure)
    recency = 1.0 if gap <= cadence else 0.5 ** ((gap - cadence) / half_life)
    frequency = 1 - math.exp(-agg.recent_weight / cfg["frequency_scale"])
    top_weight = max(cfg["kind_weights"].values()) or 1.0
    depth = min(agg.depth_sum / agg.n_two / top_weight, 1.0)
    reciprocity = agg.n_two / agg.n if agg.n else 0.0
    w = cfg["strength_weights"]
    parts = {
        "frequency": frequency,
        "depth": depth,
        "reciprocity": reciprocity,
        "tenure": tenure,
    }
    base = sum(w[k] * v for k, v in parts.items())
    return 100 * recency * base, recency, base, parts, cadence, gap, tenure_days


def strength_fn(cfg: dict[str, Any], as_of: dt.date) -> Any:
    """A fast ``f(n, n_two, first, last, two_days, recent_weight, depth_sum) -> strength``
    for the batch path; the same arithmetic as :func:`_pair_numbers` (dates as dates)."""
    c_default = float(cfg["default_cadence_days"])
    c_min, c_max = cfg["min_cadence_days"], cfg["max_cadence_days"]
    full, slow, min_half = (
        cfg["tenure_full_days"],
        cfg["tenure_slowdown"],
        cfg["min_half_life_days"],
    )
    scale = cfg["frequency_scale"]
    top_weight = max(cfg["kind_weights"].values()) or 1.0
    w = cfg["strength_weights"]
    wf, wd, wr, wt = w["frequency"], w["depth"], w["reciprocity"], w["tenure"]
    exp = math.exp

    def f(
        n: int, two: int, first: dt.date, last: dt.date, days: int, rec: float, depth: float
    ) -> float:
        if not two:
            return 0.0
        cadence = (last - first).days / (days - 1) if days >= 2 else c_default
        cadence = c_min if cadence < c_min else (c_max if cadence > c_max else cadence)
        tenure = (as_of - first).days / full
        tenure = 1.0 if tenure > 1 else (0.0 if tenure < 0 else tenure)
        gap = (as_of - last).days
        if gap <= cadence:
            recency = 1.0
        else:
            recency = 0.5 ** (
                (gap - cadence)
                / ((cadence if cadence > min_half else min_half) * (1 + slow * tenure))
            )
        d = depth / two / top_weight
        base = (
            wf * (1 - exp(-rec / scale))
            + wd * (d if d < 1 else 1.0)
            + wr * (two / n if n else 0.0)
            + wt * tenure
        )
        return float(100 * recency * base)

    return f


def strength_value(cfg: dict[str, Any], agg: PairAgg, as_of: dt.date) -> float:
    """Just the number of :func:`pair_strength` (the batch path)."""
    if agg.n_two == 0 or agg.last_two is None or agg.first_two is None:
        return 0.0
    return _pair_numbers(cfg, agg, as_of)[0]


def pair_strength(cfg: dict[str, Any], agg: PairAgg, as_of: dt.date) -> Score:
    """Strength (0-100) of the tie between one of our people and one other person."""
    if agg.n_two == 0 or agg.last_two is None or agg.first_two is None:
        if agg.n:
            reason = (
                f"only one-way outreach: {_plural(agg.n, 'interaction')} from us, "
                "no reply, call or meeting"
            )
        else:
            reason = "no interactions together"
        return Score(0.0, band(cfg, 0), [_factor("two_way", 0.0, 0.0)], [reason])
    score, recency, base, parts, cadence, gap, tenure_days = _pair_numbers(cfg, agg, as_of)
    w = cfg["strength_weights"]
    factors = [_factor(k, v, 100 * w[k] * v) for k, v in parts.items()]
    factors.append(_factor("recency", recency, score - 100 * base))
    reasons = []
    if gap > cadence:
        reasons.append(f"no two-way contact in {gap} days; usual cadence is {round(cadence)} days")
    else:
        reasons.append(
            f"last two-way contact {gap} days ago, within the usual cadence of "
            f"{round(cadence)} days"
        )
    one_way = agg.n - agg.n_two
    if parts["reciprocity"] < 0.5 and one_way:
        reasons.append(f"mostly one-way: {one_way} of {agg.n} interactions got no reply")
    if tenure_days >= 365:
        reasons.append(f"in touch for {tenure_days // 365}+ years")
    return Score(
        score,
        band(cfg, score),
        factors,
        reasons,
        {
            "cadence_days": round(cadence, 1),
            "days_since_two_way": gap,
            "interactions": agg.n,
            "two_way": agg.n_two,
            "first_two_way": agg.first_two.isoformat(),
            "last_two_way": agg.last_two.isoformat(),
        },
    )


def person_health(
    cfg: dict[str, Any],
    name: str,
    ties: list[tuple[float, str]],
    best_reasons: list[str] | None = None,
) -> Score:
    """Health of our relationship with one outside person from our people's ties to them.

    ``ties`` is ``(strength, team member name)`` for every member with a two-way tie.
    """
    ties = sorted((t for t in ties if t[0] > 0), key=lambda t: (-t[0], t[1]))
    if not ties:
        return Score(
            0.0,
            band(cfg, 0),
            [_factor("strongest_tie", 0, 0), _factor("breadth", 0, 0)],
            [f"nobody on our team has two-way contact with {name}"],
            {"in_touch": 0},
        )
    top, member = ties[0]
    engaged = [t for t in ties if t[0] >= cfg["engaged_strength"]]
    extra = min(max(len(engaged) - 1, 0), cfg["breadth_max"])
    bonus = (100 - top) * cfg["breadth_bonus"] * extra
    score = min(top + bonus, 100.0)
    reasons = [f"strongest tie: {member} (strength {round(top)})"]
    reasons += list(best_reasons or [])
    if len(engaged) > 1:
        reasons.append(f"{len(engaged)} of our people are in touch with {name}")
    elif engaged:
        reasons.append(f"only one of our people ({member}) is in touch with {name}")
    return Score(
        score,
        band(cfg, score),
        [_factor("strongest_tie", top, top), _factor("breadth", len(engaged), bonus)],
        reasons,
        {"in_touch": len(engaged)},
    )


@dataclass
class OrgInputs:
    """What the organisation score needs, already aggregated."""

    name: str
    people: list[tuple[str, str, float, str]]  # (id, name, health, role) of active employees
    members_in_touch: list[str]  # names of our people with an engaged tie to anyone there
    key_people: list[tuple[str, str, float]]  # (name, role, health)
    departures: list[tuple[str, str, dt.date]]  # (name, role, until) of key people who left
    sentiment: tuple[float, int] = (0.0, 0)  # sum, count in the signal window
    score_recent: tuple[float, int] = (0.0, 0)  # survey score sum, count (signal window)
    score_before: tuple[float, int] = (0.0, 0)  # the window before it
    window_start: dt.date | None = None
    last_two_way: str = ""  # ISO date of the newest two-way contact with anyone there
    as_of: dt.date | None = None


SCORES_FELL = "average survey score fell"  # a risk event (at-risk lists it by this)


def org_health(cfg: dict[str, Any], inp: OrgInputs) -> Score:
    """Health of our relationship with an organisation (its people, our people, signals)."""
    w = cfg["org_weights"]
    healths = sorted((p[2] for p in inp.people), reverse=True)
    top = healths[:3]
    depth = (sum(top) / len(top) / 100) if top else 0.0
    engaged = sum(1 for h in healths if h >= cfg["bands"][-2][0])
    breadth = 1 - math.exp(-engaged / cfg["breadth_scale"])
    threads = len(inp.members_in_touch)
    threading = {0: 0.0, 1: 0.3, 2: 0.7}.get(threads, 1.0)
    reasons: list[str] = []
    if inp.key_people:
        ok = [k for k in inp.key_people if k[2] >= cfg["key_engaged_health"]]
        key_roles = len(ok) / len(inp.key_people)
        cold = sorted(
            (k for k in inp.key_people if k[2] < cfg["key_engaged_health"]), key=lambda k: k[2]
        )
        for name, role, health in cold[:3]:
            reasons.append(f"{role} {name} is not engaged (health {round(health)})")
        if len(cold) > 3:
            reasons.append(f"... and {len(cold) - 3} more key people are not engaged")
    else:
        key_roles = 0.5
        reasons.append(f"no key roles (decision maker, champion ...) recorded at {inp.name}")
    s_sum, s_n = inp.sentiment
    sc_sum, sc_n = inp.score_recent
    signals = []
    if s_n:
        signals.append((s_sum / s_n + 1) / 2)
    if sc_n:
        signals.append(min(max(sc_sum / sc_n / 10, 0.0), 1.0))
    sentiment = sum(signals) / len(signals) if signals else 0.5
    parts = {
        "depth": depth,
        "breadth": breadth,
        "threading": threading,
        "key_roles": key_roles,
        "sentiment": sentiment,
    }
    factors = [_factor(k, v, 100 * w[k] * v) for k, v in parts.items()]
    score = 100 * sum(w[k] * v for k, v in parts.items())
    if not inp.people:
        reasons.insert(0, f"nobody works at {inp.name} as far as we know")
    elif engaged == 0:
        reasons.insert(
            0,
            f"none of the {len(inp.people)} people at {inp.name} are engaged"
            if len(inp.people) > 1
            else f"the one person we know at {inp.name} is not engaged",
        )
    else:
        closest = max(inp.people, key=lambda p: (p[2], p[1]))
        reasons.insert(0, f"we engage {engaged} of the {len(inp.people)} people at {inp.name}")
        reasons.insert(1, f"closest: {closest[1]} (health {round(closest[2])})")
    if threads == 0 and inp.last_two_way and inp.as_of is not None:
        days = (inp.as_of - dt.date.fromisoformat(inp.last_two_way[:10])).days
        reasons.append(
            f"no two-way contact with anyone at {inp.name} for {days} days "
            f"(last on {inp.last_two_way[:10]})"
        )
    elif threads == 0:
        reasons.append(f"nobody on our team talks to {inp.name}")
    elif threads == 1:
        reasons.append(f"only one of our people talks to {inp.name} ({inp.members_in_touch[0]})")
    penalty = 0.0
    for name, role, until in sorted(inp.departures, key=lambda d: d[2], reverse=True):
        penalty += cfg["departure_penalty"]
        reasons.append(f"{role} {name} left {inp.name} on {until.isoformat()}")
    b_sum, b_n = inp.score_before
    if sc_n and b_n:
        before, now = b_sum / b_n, sc_sum / sc_n
        since = inp.window_start.strftime("%B") if inp.window_start else "then"
        if before - now >= cfg["score_drop_points"]:
            penalty += cfg["score_drop_penalty"]
            reasons.append(f"{SCORES_FELL} from {before:.0f} to {now:.0f} (0-10) since {since}")
        elif now - before >= cfg["score_drop_points"]:
            reasons.append(
                f"average survey score rose from {before:.0f} to {now:.0f} (0-10) since {since}"
            )
    if penalty:
        factors.append(_factor("risk_events", penalty, -min(penalty, score)))
        score = max(score - penalty, 0.0)
    return Score(
        score,
        band(cfg, score),
        factors,
        reasons,
        {"people": len(inp.people), "engaged": engaged, "our_people_in_touch": threads},
    )


def trend_reason(now: float, before: float, since: dt.date, cfg: dict[str, Any]) -> str | None:
    delta = now - before
    if abs(delta) < cfg["falling_points"]:
        return None
    verb = "fell" if delta < 0 else "rose"
    return f"health {verb} from {before:.0f} to {now:.0f} since {since.isoformat()}"
