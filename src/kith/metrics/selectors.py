"""Reads: the metric catalogue and one metric computed for a record as of a day."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from kith.core import clock
from kith.core.errors import ValidationError
from kith.core.parse import parse_date
from kith.core.viewer import Viewer
from kith.metrics.catalogue import REGISTRY, Context, Metric, Result, get_metric
from kith.records.models import Record
from kith.records.selectors import effective_viewer, resolve

DEFAULT_WINDOW = 90
_WINDOW = re.compile(r"^\s*(\d{1,5})\s*([dwmy]?)\s*$")
_UNIT_DAYS = {"": 1, "d": 1, "w": 7, "m": 30, "y": 365}


def parse_window(value: str | int | None, *, field: str = "window") -> int:
    """Days in a window given as ``90``, ``90d``, ``12w``, ``3m`` or ``1y`` (1..36500)."""
    if value is None or value == "":
        return DEFAULT_WINDOW
    if isinstance(value, int):
        days = value
    else:
        found = _WINDOW.match(str(value).lower())
        if not found:
            raise ValidationError(
                f"--{field}: {value!r} is not a window (e.g. 90d, 12w, 3m, 1y)", field=field
            )
        days = int(found.group(1)) * _UNIT_DAYS[found.group(2)]
    if not 1 <= days <= 36500:
        raise ValidationError(f"--{field}: {value!r} is outside 1 day..100 years", field=field)
    return days


def parse_params(value: str | dict[str, Any] | None, *, field: str = "filter") -> dict[str, Any]:
    """A metric's parameters: a JSON object (``--filter '{"kind": "meeting"}'``)."""
    if value is None or value == "":
        return {}
    if isinstance(value, dict):
        return value
    try:
        data = json.loads(value)
    except ValueError as exc:
        raise ValidationError(f"--{field}: not valid JSON ({exc})", field=field) from None
    if not isinstance(data, dict):
        raise ValidationError(f"--{field}: must be a JSON object", field=field)
    return data


def list_metrics() -> list[dict[str, Any]]:
    """Every metric of the catalogue, by key."""
    return [REGISTRY[k].view() for k in sorted(REGISTRY)]


def check_scope(m: Metric, record: Record, *, field: str = "ref") -> None:
    if "*" in m.scopes or record.type_id in m.scopes:
        return
    raise ValidationError(
        f"{field}: {m.key} is measured for {' or '.join(m.scopes)}, not {record.type_id} "
        f"{record.name!r}",
        field=field,
    )


def measure(
    viewer: Viewer,
    key: str,
    record: Record,
    *,
    as_of: dt.date,
    window: int = DEFAULT_WINDOW,
    params: dict[str, Any] | None = None,
) -> Result:
    """The metric ``key`` for a record ``viewer`` may see (already resolved), as of a day."""
    m = get_metric(key)
    check_scope(m, record)
    return m.fn(Context(effective_viewer(viewer), record, as_of, window, dict(params or {})))


def measure_many(
    viewer: Viewer,
    key: str,
    records: list[Record],
    *,
    as_of: dt.date,
    window: int = DEFAULT_WINDOW,
    params: dict[str, Any] | None = None,
) -> list[Result]:
    """The metric ``key`` for many records at once (the same results as ``measure`` for
    each, from shared reads when the metric has a many-records form)."""
    m = get_metric(key)
    for r in records:
        check_scope(m, r)
    who = effective_viewer(viewer)
    ctxs = [Context(who, r, as_of, window, dict(params or {})) for r in records]
    if not ctxs:
        return []
    if m.many is not None:
        return m.many(ctxs)
    return [m.fn(c) for c in ctxs]


def result_view(
    m: Metric, record: Record, day: dt.date, window: int, res: Result
) -> dict[str, Any]:
    return {
        "metric": m.key,
        "label": m.label,
        "unit": m.unit,
        "better": m.better,
        "scope": {"id": record.id, "name": record.name, "type": record.type_id},
        "as_of": day.isoformat(),
        "window_days": window,
        "window_from": (day - dt.timedelta(days=window - 1)).isoformat(),
        "value": res.value,
        "n": res.n,
        "reasons": res.reasons,
        "evidence": res.evidence,
    }


def show(
    viewer: Viewer,
    key: str,
    ref: str,
    *,
    as_of: str | dt.date | None = None,
    window: str | int | None = None,
    params: str | dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One metric for one record as of a day over a window, with reasons and evidence."""
    m = get_metric(key)
    day = parse_date(as_of, field="as_of") or clock.today()
    days = parse_window(window)
    args = parse_params(params)
    record = resolve(viewer, ref, field="ref")
    res = measure(viewer, m.key, record, as_of=day, window=days, params=args)
    return result_view(m, record, day, days, res)
