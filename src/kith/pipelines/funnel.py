"""The funnel, computed from stage history (not from today's stages).

For a window of days and an as-of day, per stage: the entries (a record created at the
stage, or moved into it, within the window) and what became of each by the end of the
as-of day, read from the record's next move: advanced (to a later open or a won stage,
skips counted, and how many skipped a stage), lost (by reason), moved back (to an earlier
stage), or still there. The four parts add up to the entries. Conversion to the next stage
is advanced / entries; the median days in stage is over the entries that left it. The
cohort is the records created in the window by their outcome as of the day (overall
conversion: won / created). Only moves up to the end of the as-of day are read, so an
as-of answer stays the same when later moves are made.

Each stage change carries how the record left it (``left_at``, ``left_to``,
``left_reason``, ``dwell_days``: set by the next move in its transaction), so the funnel is
one grouped scan of the window's changes (and one for the cohort), on SQLite and
PostgreSQL alike; records ``viewer`` may not see, and deleted ones, are left out in the
query. ``by="owner"`` shows only the groups of the viewer and the people who report to
them (coaching, not ranking: groups come in name order, never by a result).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.contrib.auth.models import User
from django.db import connection

from kith.core import clock
from kith.core.errors import ValidationError
from kith.core.parse import parse_date
from kith.core.viewer import Viewer
from kith.pipelines.models import Stage
from kith.pipelines.selectors import as_of_day, day_end, get_pipeline, stage_view
from kith.records.models import ContactPoint, Record
from kith.records.selectors import hidden_sql, visible_q
from kith.relationships.models import Relationship
from kith.relationships.selectors import active_on

GROUPS = ("source", "owner")
DEFAULT_WINDOW = 90


def _json_text(column: str, key: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} ->> '{key}')"
    return f"json_extract({column}, '$.{key}')"


def _amount(column: str) -> str:
    if connection.vendor == "postgresql":
        return (
            f"CASE WHEN jsonb_typeof({column} -> 'amount') = 'number' "
            f"THEN ({column} ->> 'amount')::float ELSE 0 END"
        )
    return f"COALESCE(CAST(json_extract({column}, '$.amount') AS REAL), 0)"


def _days(a: str, b: str) -> str:
    if connection.vendor == "postgresql":
        return f"FLOOR(EXTRACT(EPOCH FROM ({b} - {a})) / 86400)"
    return f"CAST(julianday({b}) - julianday({a}) AS INTEGER)"


def coached_owners(viewer: Viewer) -> list[str]:
    """The team people whose ``--by owner`` funnel ``viewer`` may see: the viewer's own
    person record (by the user's email) and the people who report to them today."""
    if viewer.user_id is None:
        raise ValidationError(
            "by: the funnel by owner is shown to that owner and their lead only; "
            "say who is asking (--user EMAIL)",
            field="by",
        )
    user = User.objects.filter(pk=viewer.user_id).first()
    email = (user.email or user.username).strip().lower() if user else ""
    me = set(
        ContactPoint.objects.filter(
            kind="email", normalized=email, record__type_id="person", record__deleted_at=None
        ).values_list("record_id", flat=True)
    )
    reports = set(
        Relationship.objects.filter(
            active_on(clock.today()), type_id="reports_to", to_record_id__in=me
        ).values_list("from_record_id", flat=True)
    )
    return sorted(me | reports)


def _window(
    start: str | dt.date | None, end: str | dt.date | None, as_of: dt.date
) -> tuple[dt.date, dt.date]:
    last = parse_date(end, field="to") or as_of
    first = parse_date(start, field="from") or last - dt.timedelta(days=DEFAULT_WINDOW - 1)
    if first > last:
        raise ValidationError(
            f"from: {first.isoformat()} is after --to {last.isoformat()}", field="from"
        )
    if last > as_of:
        raise ValidationError(
            f"to: {last.isoformat()} is after the as-of day {as_of.isoformat()}", field="to"
        )
    return first, last


def _median(hist: dict[int, int]) -> float | None:
    n = sum(hist.values())
    if not n:
        return None
    ordered = sorted(hist.items())

    def nth(k: int) -> int:  # the k-th smallest (0-based)
        seen = 0
        for d, c in ordered:
            seen += c
            if k < seen:
                return d
        return ordered[-1][0]

    lo, hi = nth((n - 1) // 2), nth(n // 2)
    return (lo + hi) / 2


def funnel(
    viewer: Viewer,
    *,
    pipeline: str | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    by: str | None = None,
    value: bool = False,
    as_of: str | dt.date | None = None,
) -> dict[str, Any]:
    """The funnel of ``pipeline`` (default: the first deals pipeline) for the window
    ``start``..``end`` (default the 90 days to the as-of day), as of ``as_of`` (today)."""
    pipe = get_pipeline(pipeline)
    day = as_of_day(as_of)
    first, last = _window(start, end, day)
    if by is not None and by not in GROUPS:
        raise ValidationError(f"by: {by!r} is not one of {', '.join(GROUPS)}", field="by")
    stages = {s.pk: s for s in Stage.objects.filter(pipeline=pipe)}
    group = _json_text("r.fields", by) if by else "''"
    only = ""
    only_params: list[Any] = []
    if by == "owner":
        allowed = coached_owners(viewer)
        only = f" AND {group} IN ({', '.join(['%s'] * len(allowed))})" if allowed else " AND 1=0"
        only_params = list(allowed)
    w_from = day_end(first) - dt.timedelta(days=1)
    w_to = day_end(last)
    end_at = day_end(day)
    need_record = value or by is not None
    join = " JOIN records_record r ON r.id = sc.record_id" if need_record else ""
    deleted = Record.objects.filter(type_id=pipe.record_type_id, deleted_at__isnull=False)
    if need_record:
        live = " AND r.deleted_at IS NULL"
    elif deleted.exists():  # one probe; most workspaces have no deleted deal
        live = (
            " AND sc.record_id NOT IN"
            " (SELECT d.id FROM records_record d WHERE d.deleted_at IS NOT NULL)"
        )
    else:
        live = ""
    amount = _amount("r.fields") if value else "0"
    hidden, hidden_params = hidden_sql(viewer, "sc.record_id")
    gone = "sc.left_at < %s"
    moves = f"""
        SELECT sc.to_stage_id,
               CASE WHEN {gone} THEN sc.left_to_id END,
               CASE WHEN {gone} THEN sc.left_reason ELSE '' END,
               CASE WHEN sc.from_stage_id IS NULL THEN 1 ELSE 0 END,
               COALESCE({group}, ''),
               CASE WHEN {gone} THEN sc.dwell_days ELSE -1 END,
               COUNT(*), SUM({amount})
        FROM pipelines_stagechange sc{join}
        WHERE sc.pipeline_id = %s AND sc.at >= %s AND sc.at < %s{live}{hidden}{only}
        GROUP BY 1, 2, 3, 4, 5, 6
    """
    # the cohort: records that entered the pipeline in the window, at their stage as of the
    # day (the change made by then that they had not left by then)
    cohort = f"""
        SELECT sc.to_stage_id, COALESCE({group}, ''), COUNT(*), SUM({amount})
        FROM pipelines_stagechange sc{join}
        WHERE sc.pipeline_id = %s AND sc.at < %s AND (sc.left_at IS NULL OR sc.left_at >= %s)
          AND sc.record_id IN (
            SELECT s2.record_id FROM pipelines_stagechange s2
            WHERE s2.pipeline_id = %s AND s2.from_stage_id IS NULL
              AND s2.at >= %s AND s2.at < %s){live}{hidden}{only}
        GROUP BY 1, 2
    """
    with connection.cursor() as cur:
        cur.execute(
            moves,
            [end_at] * 3 + [pipe.pk, w_from, min(w_to, end_at), *hidden_params, *only_params],
        )
        move_rows = cur.fetchall()
        cur.execute(
            cohort,
            [pipe.pk, end_at, end_at, pipe.pk, w_from, w_to, *hidden_params, *only_params],
        )
        cohort_rows = cur.fetchall()
    groups: dict[str, dict[str, Any]] = defaultdict(lambda: _empty(stages))
    for stage_id, nxt, reason, created, key, days, n, amt in move_rows:
        g = groups[key]
        s = stages[stage_id]
        cell = g["stages"][s.key]
        weight = float(amt or 0) if value else int(n)
        cell["entries"] += weight
        if created:
            cell["created"] += weight
        if nxt is None:
            cell["still"] += weight
            continue
        t = stages[nxt]
        g["_days"][s.key][int(days)] += int(n)
        if t.category == "lost" and s.category != "lost":
            cell["lost"] += weight
            cell["lost_by_reason"][reason or "(no reason)"] = (
                cell["lost_by_reason"].get(reason or "(no reason)", 0) + weight
            )
        elif t.position > s.position:
            cell["advanced"] += weight
            if t.category == "open" and _skipped(stages, s, t):
                cell["skipped"] += weight
        else:
            cell["moved_back"] += weight
    for stage_id, key, n, amt in cohort_rows:
        g = groups[key]
        cat = stages[stage_id].category
        weight = float(amt or 0) if value else int(n)
        g["cohort"]["created"] += weight
        g["cohort"][cat] += weight
    out_groups = [_finish(k, groups[k], stages, value) for k in sorted(groups)]
    names: dict[str, str] = {}
    if by == "owner":
        names = dict(
            Record.objects.filter(visible_q(viewer), pk__in=list(groups)).values_list("id", "name")
        )
    for g in out_groups:
        g["name"] = names.get(g["key"], g["key"] or f"(no {by})")
    total = (
        _finish("", groups[""], stages, value)
        if not by
        else _total([groups[k] for k in sorted(groups)], stages, value)
    )
    return {
        "pipeline": pipe.key,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "as_of": day.isoformat(),
        "measure": "amount" if value else "count",
        "by": by,
        "stages": [stage_view(s) for s in sorted(stages.values(), key=lambda s: s.position)],
        "groups": out_groups if by else [],
        **{k: v for k, v in total.items() if k != "key"},
    }


def _skipped(stages: dict[int, Stage], s: Stage, t: Stage) -> bool:
    """Whether a move from ``s`` to ``t`` passed over an open stage between them."""
    return any(
        x.category == "open" and s.position < x.position < t.position for x in stages.values()
    )


def _empty(stages: dict[int, Stage]) -> dict[str, Any]:
    cells = {
        s.key: {
            "entries": 0,
            "created": 0,
            "advanced": 0,
            "skipped": 0,
            "lost": 0,
            "lost_by_reason": {},
            "moved_back": 0,
            "still": 0,
        }
        for s in stages.values()
    }
    return {
        "stages": cells,
        "_days": {s.key: defaultdict(int) for s in stages.values()},
        "cohort": {"created": 0, "open": 0, "won": 0, "lost": 0},
    }


def _rate(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def _finish(key: str, g: dict[str, Any], stages: dict[int, Stage], value: bool) -> dict[str, Any]:
    rows = []
    for s in sorted(stages.values(), key=lambda s: s.position):
        cell = dict(g["stages"][s.key])
        if value:
            cell = {k: round(v, 2) if isinstance(v, float) else v for k, v in cell.items()}
            cell["lost_by_reason"] = {k: round(v, 2) for k, v in cell["lost_by_reason"].items()}
        rows.append(
            {
                "stage": s.key,
                "category": s.category,
                **cell,
                "conversion": _rate(cell["advanced"], cell["entries"])
                if s.category == "open"
                else None,
                "median_days": _median(g["_days"][s.key]),
            }
        )
    cohort = dict(g["cohort"])
    if value:
        cohort = {k: round(v, 2) for k, v in cohort.items()}
    return {
        "key": key,
        "rows": rows,
        "cohort": cohort,
        "overall_conversion": _rate(cohort["won"], cohort["created"]),
    }


def _total(groups: list[dict[str, Any]], stages: dict[int, Stage], value: bool) -> dict[str, Any]:
    """The sum of the groups shown (not of the ones left out)."""
    summed: dict[str, Any] = _empty(stages)
    for g in groups:
        for key, cell in g["stages"].items():
            into = summed["stages"][key]
            for k in ("entries", "created", "advanced", "skipped", "lost", "moved_back", "still"):
                into[k] += cell[k]
            for r, v in cell["lost_by_reason"].items():
                into["lost_by_reason"][r] = into["lost_by_reason"].get(r, 0) + v
            for d, n in g["_days"][key].items():
                summed["_days"][key][d] += n
        for k, v in g["cohort"].items():
            summed["cohort"][k] += v
    return _finish("", summed, stages, value)
