"""Surprises: events, not people. Robust anomaly detection on weekly series of the metric
catalogue (interaction volume per account by default; any catalogue metric of an
organisation), deviations up and down.

- A week is a *spike* or a *drop* when its value is far from a seasonality-matched trailing
  median: the same phase of the last cycles when the series is seasonal (``period`` weeks),
  else the last ``TRAILING`` weeks; "far" is a MAD z-score (0.6745 (x - median) / MAD) of
  ``Z`` or more. A series whose counts are low (the week and its baseline both under
  ``min_count``) is skipped: two emails instead of one is noise, not news.
- A *level shift* (a trend break, a change point) is the median of the last ``RECENT``
  weeks against the median of the ``TRAILING`` weeks before them, again as a MAD z-score
  and at least doubled or halved.

Pure functions of the series; the selector reads series through ``measure_many`` (so
visibility, evidence and reasons are the catalogue's) and never names one of our people.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from typing import Any

from kith.core.errors import ValidationError
from kith.core.viewer import Viewer
from kith.metrics.selectors import measure_many
from kith.records.models import Record
from kith.records.selectors import effective_viewer, home_org, resolve, visible_q

Z = 3.5
TRAILING = 8
RECENT = 4
MIN_COUNT = 5.0
WEEKS = 20  # weeks of history read for each series
METRIC = "interactions.two_way"


@dataclass(frozen=True)
class Flag:
    index: int  # the week's position in the series
    kind: str  # spike, drop, level_up, level_down
    value: float
    baseline: float
    z: float


def _mad_z(x: float, ref: list[float], counts: bool = True) -> tuple[float, float]:
    """(median, robust z of x against ref): (x - median) / (MAD / 0.6745), the scale never
    under the square root of the median for counts (a few quiet weeks are no licence to
    call ordinary noise a surprise), nor under one unit."""
    med = statistics.median(ref)
    mad = statistics.median(abs(v - med) for v in ref) / 0.6745
    floor = max(1.0, abs(med) ** 0.5) if counts else 1e-9
    return med, (x - med) / max(mad, floor)


def baseline_of(series: list[float], i: int, period: int | None) -> list[float]:
    """The values a week is compared with: the same phase of earlier cycles (seasonal), else
    the trailing weeks before it."""
    if period and period > 1:
        same = [series[j] for j in range(i - period, -1, -period)][:TRAILING]
        return same if len(same) >= 3 else []  # too few cycles yet: no judgement
    return series[max(0, i - TRAILING) : i]


def detect(
    series: list[float],
    *,
    period: int | None = None,
    min_count: float = MIN_COUNT,
    z: float = Z,
    last: int | None = None,
) -> list[Flag]:
    """Spikes, drops and level shifts in a weekly series (oldest first); only in its last
    ``last`` weeks when given."""
    flags: list[Flag] = []
    start = len(series) - last if last else 0
    for i in range(max(start, 4), len(series)):
        ref = baseline_of(series, i, period)
        if len(ref) < (3 if period else 4):
            continue
        x = series[i]
        med, score = _mad_z(x, ref)
        if max(x, med) < min_count:
            continue
        if score >= z and x >= 2 * max(med, 1.0) - 1e-9:
            flags.append(Flag(i, "spike", x, med, round(score, 2)))
        elif score <= -z and x <= med / 2:
            flags.append(Flag(i, "drop", x, med, round(score, 2)))
    n = len(series)
    if n >= RECENT + TRAILING:
        recent = series[n - RECENT :]
        before = series[n - RECENT - TRAILING : n - RECENT]
        now = statistics.median(recent)
        med, score = _mad_z(now, before)
        if max(now, med) >= min_count:
            if score >= z and now >= 2 * max(med, 1.0):
                flags.append(Flag(n - 1, "level_up", now, med, round(score, 2)))
            elif score <= -z and now <= med / 2:
                flags.append(Flag(n - 1, "level_down", now, med, round(score, 2)))
    return flags


def _scope(viewer: Viewer, scope: str) -> list[Record]:
    text = (scope or "all").strip()
    if text.lower() in ("all", "team"):
        home = home_org()
        qs = Record.objects.filter(visible_q(viewer), type_id="organization", deleted_at=None)
        if home is not None:
            qs = qs.exclude(pk=home.id)
        return list(qs.order_by("name_key", "id"))
    record = resolve(viewer, text, field="scope")
    if record.type_id != "organization":
        raise ValidationError(
            f"scope: surprises are about organisations, not {record.type_id} {record.name!r}",
            field="scope",
        )
    return [record]


def surprises(
    viewer: Viewer,
    *,
    scope: str = "all",
    since_days: int = 14,
    as_of: dt.date,
    metric: str = METRIC,
    period: int | None = None,
    records: list[Record] | None = None,
) -> dict[str, Any]:
    """Surprises in the last ``since_days`` (whole weeks) of each account's weekly series of
    ``metric``, each with its evidence (the week's items, from the catalogue); ``records``
    (organisations ``viewer`` may see) instead of ``scope`` when given."""
    if not 7 <= since_days <= 366:
        raise ValidationError(f"since: {since_days} days is outside 7..366", field="since")
    viewer = effective_viewer(viewer)
    orgs = records if records is not None else _scope(viewer, scope)
    if not orgs:
        return {"as_of": as_of.isoformat(), "scope": scope, "metric": metric, "weeks": WEEKS,
                "since_days": since_days, "items": []}  # fmt: skip
    weeks = [as_of - dt.timedelta(days=7 * k) for k in range(WEEKS - 1, -1, -1)]
    last = max(1, since_days // 7)
    results = [measure_many(viewer, metric, orgs, as_of=d, window=7) for d in weeks]
    items: list[dict[str, Any]] = []
    for j, org in enumerate(orgs):
        values = [float(results[w][j].value or 0.0) for w in range(len(weeks))]
        for f in detect(values, period=period, last=last):
            week_end = weeks[f.index]
            res = results[f.index][j]
            word = {
                "spike": "jumped",
                "drop": "fell",
                "level_up": "has doubled or more",
                "level_down": "has halved or more",
            }[f.kind]
            what = f"{metric} at {org.name} {word}"
            span = f"week to {week_end.isoformat()}"
            if f.kind.startswith("level"):
                span = f"last {RECENT} weeks' median, to {week_end.isoformat()}"
            items.append(
                {
                    "kind": f.kind,
                    "positive": f.kind in ("spike", "level_up"),
                    "about": {"id": org.id, "name": org.name},
                    "metric": metric,
                    "week_end": week_end.isoformat(),
                    "value": f.value,
                    "baseline": f.baseline,
                    "z": f.z,
                    "text": f"{what}: {f.value:g} against a usual {f.baseline:g} ({span})",
                    "evidence": [org.id, *res.evidence[:20]],
                    "key": f"surprise:{org.id}:{metric}:{f.kind}:{week_end.isoformat()}",
                }
            )
    items.sort(key=lambda i: (i["week_end"], i["about"]["name"], i["kind"]), reverse=True)
    return {
        "as_of": as_of.isoformat(),
        "scope": scope,
        "metric": metric,
        "weeks": WEEKS,
        "since_days": since_days,
        "items": items,
    }
