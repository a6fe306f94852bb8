"""A measure's status as pure functions: a Theil–Sen trend projected to the target date.

Theil–Sen: the slope is the median of the slopes between every pair of readings (robust
to a wild reading), the intercept the median of ``value - slope * day``. The projection is
that line's value on the target day. Progress is the share of the way from the baseline to
the target the projection covers (for ``decrease`` the way down; for ``maintain`` the
distance from the target kept within a tolerance):

- on track: the projection reaches the target (progress >= 1);
- at risk: it covers at least ``AT_RISK`` (70%) of the way;
- off track: less.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from dataclasses import dataclass

AT_RISK = 0.7  # progress at or above this (and below 1) is at risk
MAINTAIN_TOLERANCE = 0.05  # maintain: within 5% of the target is on track, 10% at risk
DAYS_A_MONTH = 30.44


@dataclass(frozen=True)
class Trend:
    slope: float  # per day
    intercept: float  # the value at day ordinal 0 of the series' first day

    def at(self, origin: dt.date, day: dt.date) -> float:
        return self.intercept + self.slope * (day - origin).days


def theil_sen(points: list[tuple[dt.date, float]]) -> tuple[Trend, dt.date] | None:
    """The Theil–Sen line through (day, value) points, with the day it counts from; none
    with fewer than two distinct days."""
    if len({d for d, _ in points}) < 2:
        return None
    origin = min(d for d, _ in points)
    xs = [((d - origin).days, v) for d, v in points]
    slopes = [
        (y2 - y1) / (x2 - x1) for i, (x1, y1) in enumerate(xs) for x2, y2 in xs[i + 1 :] if x2 != x1
    ]
    slope = statistics.median(slopes)
    intercept = statistics.median(y - slope * x for x, y in xs)
    return Trend(slope, intercept), origin


def progress(direction: str, baseline: float, target: float, projected: float) -> float:
    """The share of the way from baseline to target that ``projected`` covers (maintain:
    1 when within the tolerance of the target, falling with the distance)."""
    if direction == "maintain":
        scale = abs(target) or 1.0
        off = abs(projected - target) / scale
        if off <= MAINTAIN_TOLERANCE:
            return 1.0
        return max(1.0 - (off - MAINTAIN_TOLERANCE) * (1 - AT_RISK) / MAINTAIN_TOLERANCE, 0.0)
    if direction == "decrease":  # the same question, upside down
        return progress("increase", -baseline, -target, -projected)
    if target > baseline:
        return (projected - baseline) / (target - baseline)
    # the target is at or below the baseline: reached while the projection stays above it
    if projected >= target:
        return 1.0
    return projected / target if target > 0 else 0.0


def status_of(share: float) -> str:
    if share >= 1.0 - 1e-9:
        return "on track"
    if share >= AT_RISK:
        return "at risk"
    return "off track"


def fmt(value: float) -> str:
    """A number as people write it: 5, 5.5, 0.25."""
    return f"{round(value, 2):g}"


@dataclass(frozen=True)
class Assessment:
    status: str  # on track | at risk | off track | unknown
    current: float | None
    projected: float | None
    slope_per_month: float | None
    progress: float | None
    sentence: str


def assess(
    *,
    label: str,
    direction: str,
    baseline: float | None,
    baseline_on: dt.date | None,
    target: float,
    target_on: dt.date,
    points: list[tuple[dt.date, float]],
    as_of: dt.date,
    milestones: list[tuple[dt.date, float]] | None = None,
) -> Assessment:
    """Status and sentence of a measure from its readings up to ``as_of``. With milestones
    (a glide path from the baseline through them to the target), the trend is also held to
    each milestone still ahead: the status is the worst of the target's and theirs."""
    pts = sorted((d, v) for d, v in points if d <= as_of)
    current = pts[-1][1] if pts else None
    base = baseline if baseline is not None else (pts[0][1] if pts else None)
    base_day = baseline_on or (pts[0][0] if pts else None)
    head = f"{label}: {fmt(current) if current is not None else 'no reading'}"
    base_txt = (
        f"baseline {fmt(base)} on {base_day.isoformat()}"
        if base is not None and base_day
        else "no baseline"
    )
    frame = f"{head} ({base_txt}, target {fmt(target)} by {target_on.isoformat()})"
    line = theil_sen(pts)
    if line is None or base is None:
        return Assessment(
            "unknown", current, None, None, None, f"{frame}; not enough readings for a trend yet."
        )
    trend, origin = line
    projected = trend.at(origin, max(target_on, as_of))
    per_month = trend.slope * DAYS_A_MONTH
    share = progress(direction, base, target, projected)
    status = status_of(share)
    pace = f"{per_month:+.1f} a month"
    verb = "you reach" if target_on >= as_of else "the trend stood at"
    sentence = f"{frame}; at the current pace ({pace}) {verb} {fmt(projected)}"
    ahead = sorted((d, v) for d, v in (milestones or []) if as_of <= d < target_on)
    if ahead:
        on_path = glide(base, base_day or as_of, target, target_on, milestones or [], as_of)
        sentence += f" (glide path {fmt(on_path)} today)"
        for d, v in ahead:
            got = trend.at(origin, d)
            mark = status_of(progress(direction, base, v, got))
            if RANK[mark] > RANK[status]:
                status, share = mark, min(share, progress(direction, base, v, got))
                sentence += f"; milestone {fmt(v)} by {d.isoformat()}: you reach {fmt(got)}"
                break
    sentence += f": {status}."
    return Assessment(status, current, round(projected, 2), round(per_month, 2), share, sentence)


RANK = {"on track": 0, "at risk": 1, "off track": 2}


def glide(
    baseline: float,
    baseline_on: dt.date,
    target: float,
    target_on: dt.date,
    milestones: list[tuple[dt.date, float]],
    day: dt.date,
) -> float:
    """The glide path's value on ``day``: straight lines from the baseline through the
    milestones to the target (flat before the baseline and after the target)."""
    knots = sorted(
        [(baseline_on, baseline)]
        + [(d, v) for d, v in milestones if baseline_on < d < target_on]
        + [(target_on, target)]
    )
    if day <= knots[0][0]:
        return knots[0][1]
    for (d1, v1), (d2, v2) in itertools.pairwise(knots):
        if day <= d2:
            span = (d2 - d1).days or 1
            return v1 + (v2 - v1) * (day - d1).days / span
    return knots[-1][1]
