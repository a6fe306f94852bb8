"""Reads: the metric catalogue and one metric computed for a record, or for the records a
saved view selects, as of a day."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from kith.core import clock
from kith.core.errors import NotFound, ValidationError
from kith.core.parse import parse_date
from kith.core.viewer import Viewer
from kith.lists.models import SavedView
from kith.lists.selectors import member_ids
from kith.metrics.catalogue import EVIDENCE_CAP, REGISTRY, Context, Metric, Result, get_metric
from kith.records.models import Record
from kith.records.selectors import effective_viewer, home_org, resolve, visible_q
from kith.relationships.selectors import team_ids

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
    m: Metric, scope: dict[str, Any], day: dt.date, window: int, res: Result
) -> dict[str, Any]:
    return {
        "metric": m.key,
        "label": m.label,
        "unit": m.unit,
        "better": m.better,
        "scope": scope,
        "as_of": day.isoformat(),
        "window_days": window,
        "window_from": (day - dt.timedelta(days=window - 1)).isoformat(),
        "value": res.value,
        "n": res.n,
        "reasons": res.reasons,
        "evidence": res.evidence,
    }


def _asked(
    key: str,
    as_of: str | dt.date | None,
    window: str | int | None,
    params: str | dict[str, Any] | None,
) -> tuple[Metric, dt.date, int, dict[str, Any]]:
    """The metric, day, window and parameters a caller asked for, checked."""
    return (
        get_metric(key),
        parse_date(as_of, field="as_of") or clock.today(),
        parse_window(window),
        parse_params(params),
    )


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
    m, day, days, args = _asked(key, as_of, window, params)
    record = resolve(viewer, ref, field="ref")
    res = measure(viewer, m.key, record, as_of=day, window=days, params=args)
    scope = {"id": record.id, "name": record.name, "type": record.type_id}
    return result_view(m, scope, day, days, res)


# -- a saved view as the scope ------------------------------------------------------------

# How a metric measured record by record reads for a saved view: "sum" adds the records'
# values (an interaction with two of the view's records counts for each), "mean" averages
# the records that have a value. A metric not named here has no meaning for a view.
VIEW_AGGREGATE: dict[str, str] = {
    "health": "mean",
    "people.engaged": "sum",
    "team.in_touch": "sum",
    "interactions.two_way": "sum",
    "exec.days_since_meeting": "mean",
    "relationships.count": "sum",
    "field.number": "sum",
    "records.matching": "sum",
    "outcomes": "sum",
    "value.events": "sum",
}


def find_view(viewer: Viewer, name: str, *, field: str = "view") -> SavedView:
    """The saved view called ``name``: the viewer's own, else for an admin or the system
    (the CLI) any user's; an unknown or ambiguous name is one line naming it."""
    clean = " ".join((name or "").split())
    named = SavedView.objects.filter(name=clean).order_by("type_key", "id")
    found = list(named.filter(user_id=viewer.user_id)[:5]) if viewer.user_id is not None else []
    if not found and viewer.sees_everything:
        found = list(named[:5])
    if not found:
        raise NotFound(f"{field}: no saved view {name!r}", field=field)
    if len(found) > 1:
        kinds = ", ".join(sorted({v.type_key for v in found}))
        raise ValidationError(
            f"{field}: {name!r} names {len(found)} saved views ({kinds}); rename one", field=field
        )
    return found[0]


def view_members(
    viewer: Viewer, view: SavedView, m: Metric, day: dt.date
) -> tuple[list[Record], list[str]]:
    """The records the view lists for ``viewer`` (privacy in the list engine's query) that
    existed at the end of ``day``, less our own organisation and team (metrics measure
    outside relationships), by name; and the reasons saying what was left out."""
    if m.key not in VIEW_AGGREGATE:
        raise ValidationError(
            f"view: {m.key} has no meaning for a saved view ({view.name!r})", field="view"
        )
    if "*" not in m.scopes and view.type_key not in m.scopes:
        raise ValidationError(
            f"view: {m.key} is measured for {' or '.join(m.scopes)}, not the {view.type_key} "
            f"view {view.name!r}",
            field="view",
        )
    ids = member_ids(viewer, view)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    records = list(
        Record.objects.filter(visible_q(viewer), pk__in=ids, created_at__lt=end)
        .select_related("type")
        .order_by("name_key", "id")
    )
    home = home_org()
    ours = set(team_ids(day)) | ({home.id} if home is not None else set())
    kept = [r for r in records if r.id not in ours]
    notes = []
    if len(kept) < len(records):
        notes.append(f"{_count(len(records) - len(kept), 'record')} of our own left out")
    return kept, notes


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def measure_view(
    viewer: Viewer,
    key: str,
    view: SavedView,
    *,
    as_of: dt.date,
    window: int = DEFAULT_WINDOW,
    params: dict[str, Any] | None = None,
) -> tuple[Result, int]:
    """The metric ``key`` for the records a saved view selects for ``viewer``: the sum or
    the mean (``VIEW_AGGREGATE``) of each record's own value; and how many records."""
    m = get_metric(key)
    records, notes = view_members(viewer, view, m, as_of)
    how = VIEW_AGGREGATE[m.key]
    results = measure_many(viewer, m.key, records, as_of=as_of, window=window, params=params)
    valued = [(r, res) for r, res in zip(records, results, strict=True) if res.value is not None]
    evidence: list[str] = []
    for _, res in valued:
        evidence.extend(e for e in res.evidence if e not in evidence)
    span = f"{_count(len(records), view.type_key + ' record')} the view {view.name!r} selects"
    if how == "sum":
        value: float | None = float(sum(res.value or 0.0 for _, res in valued))
        n = sum(res.n for _, res in valued)
        reasons = [f"the sum over the {span} of each one's {m.label.lower()}"]
    else:
        value = (
            round(sum(res.value or 0.0 for _, res in valued) / len(valued), 1) if valued else None
        )
        n = len(valued)
        reasons = [f"the mean of the {_count(len(valued), 'record')} with a value, of the {span}"]
    reasons.extend(notes)
    top = sorted(valued, key=lambda rv: (-(rv[1].value or 0.0), rv[0].name_key, rv[0].id))
    if top:
        reasons.append(
            ", ".join(f"{r.name} ({res.value:g})" for r, res in top[:5])
            + (" ..." if len(top) > 5 else "")
        )
    return Result(value, n, reasons, evidence[:EVIDENCE_CAP]), len(records)


def show_view(
    viewer: Viewer,
    key: str,
    name: str,
    *,
    as_of: str | dt.date | None = None,
    window: str | int | None = None,
    params: str | dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One metric for the records of a saved view as of a day over a window."""
    m, day, days, args = _asked(key, as_of, window, params)
    view = find_view(viewer, name)
    res, count = measure_view(viewer, m.key, view, as_of=day, window=days, params=args)
    scope = {
        "id": str(view.id),
        "name": view.name,
        "type": "view",
        "of": view.type_key,
        "records": count,
    }
    return result_view(m, scope, day, days, res)
