"""What the record page reads and parses: form values, as-of dates, its panels."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest

from kith.accounts.selectors import viewer_of
from kith.core import clock
from kith.core.errors import KithError, NotFound, ValidationError
from kith.core.parse import local_zone, parse_date
from kith.intelligence.aggregates import names
from kith.intelligence.selectors import health
from kith.interactions.selectors import (
    next_planned,
    parse_timeline_cursor,
    timeline,
    timeline_cursor,
)
from kith.records.as_of import values_as_of
from kith.records.models import Record
from kith.records.selectors import contacts_of, field_defs, record_view, reloaded, resolve
from kith.relationships.selectors import list_types, relations_view, team_ids

TIMELINE_PAGE = 20
KINDS = ["call", "email", "meeting", "message", "note", "ticket", "purchase", "survey"]
SENTIMENTS = [("", "Not recorded"), ("positive", "Positive"), ("neutral", "Neutral")]
SENTIMENTS += [("negative", "Negative")]
DIRECTIONS = [("", "Not recorded"), ("out", "We reached out"), ("in", "They reached us")]
DIRECTIONS += [("internal", "Internal")]


# -- input helpers ------------------------------------------------------------------------------


def text_input(data: Any, name: str, *, max_len: int = 300, label: str | None = None) -> str:
    """A stripped form value; too long or with NUL characters is a clear error."""
    value = str(data.get(name, "") or "").strip()
    what = label or name
    if len(value) > max_len:
        raise ValidationError(f"{what}: longer than {max_len} characters", field=name)
    if "\x00" in value:
        raise ValidationError(f"{what}: contains a NUL character", field=name)
    return value


def parse_as_of(request: HttpRequest) -> tuple[dt.date | None, str, str]:
    """(day, raw text, error) of the ``as_of`` query parameter; a bad one is an error."""
    raw = str(request.GET.get("as_of", "")).strip()
    if not raw:
        return None, "", ""
    shown = raw[:40]
    try:
        day = parse_date(shown, field="as_of") if len(raw) <= 40 else None
    except ValidationError:
        day = None
    if day is None:
        return None, shown, f"{shown!r} is not a date: use YYYY-MM-DD, for example 2024-03-31."
    if not 1900 <= day.year <= 2999:
        return None, shown, f"{shown!r} is out of range: pick a year from 1900 to 2999."
    return day, shown, ""


def day_end(day: dt.date) -> dt.datetime:
    """The first moment after ``day`` in local time (timeline items up to that date)."""
    nxt = day + dt.timedelta(days=1)
    return dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=local_zone())


def get_record(request: HttpRequest, rid: str, *, deleted: bool = True) -> Record:
    """The record ``rid`` if the signed-in user may see it (else NotFound, a 404)."""
    if len(rid) > 320:
        raise NotFound("ref: no such record", field="ref")
    return resolve(viewer_of(request.user), rid, include_deleted=deleted)


def for_writing(request: HttpRequest, rid: str) -> Record:
    """A live record to change: a deleted one must be restored first."""
    record = get_record(request, rid)
    if record.deleted_at is not None:
        raise ValidationError(f"{record.name} is deleted; restore it first", field="ref")
    return record


# -- reading the parts of the page --------------------------------------------------------------


def field_rows(record: Record, past: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every editable field of ``record``: name, contacts, then its type's typed fields; with
    ``past`` (``values_as_of``), the values as they stood then instead of today's."""
    contacts = contacts_of(record)
    if past is not None:
        contacts = {k: list(past.get(k) or []) for k in ("emails", "phones", "domains")}
    name = past.get("name", record.name) if past is not None else record.name
    rows: list[dict[str, Any]] = [
        {"name": "name", "label": "Name", "kind": "text", "value": name, "required": True}
    ]
    kinds = ["email", "phone"] if record.type_id == "person" else ["email", "phone", "domain"]
    for kind in kinds:
        values = contacts[kind + "s"]
        rows.append(
            {
                "name": kind,
                "label": kind.title(),
                "kind": "email" if kind == "email" else "text",
                "value": values[0] if values else "",
                "others": values[1:],
                "contact": True,
            }
        )
    for fdef in field_defs(record.type_id):
        if past is not None:
            value = past.get(f"fields.{fdef.name}")
        else:
            value = record.fields.get(fdef.name)
        rows.append(
            {
                "name": fdef.name,
                "label": fdef.name.replace("_", " ").capitalize(),
                "kind": fdef.kind,
                "choices": fdef.choices,
                "required": fdef.required,
                "value": "" if value is None else value,
            }
        )
    return rows


def field_row(record: Record, name: str) -> dict[str, Any]:
    for row in field_rows(record):
        if row["name"] == name:
            return row
    raise NotFound(f"field: {record.type_id} has no field {name!r}", field="field")


def relation_groups(request: HttpRequest, record: Record, as_of: dt.date | None) -> list[Any]:
    """The record's relationships from both ends, grouped by how they read from it."""
    rows = relations_view(viewer_of(request.user), record, as_of=as_of)
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["label"], []).append(row)
    return sorted(groups.items())


def type_options(record: Record) -> list[tuple[str, str]]:
    """Relationship names that can start at ``record``: forward keys and inverse names."""
    out: dict[str, str] = {}
    for t in list_types():
        if not t["from_types"] or record.type_id in t["from_types"]:
            out.setdefault(t["key"], _ends(t["key"], t["to_types"]))
        if t["inverse"] and (not t["to_types"] or record.type_id in t["to_types"]):
            out.setdefault(t["inverse"], _ends(t["inverse"], t["from_types"]))
    return sorted(out.items())


def _ends(name: str, other_types: list[str]) -> str:
    label = name.replace("_", " ")
    return f"{label} ({' or '.join(other_types)})" if other_types else label


def timeline_page(
    request: HttpRequest, record: Record, as_of: dt.date | None, cursor: str
) -> tuple[list[dict[str, Any]], str]:
    """One page of the timeline, newest first, and the cursor of the next page ('')."""
    before = day_end(as_of) if as_of is not None else None
    older_than = parse_timeline_cursor(cursor, field="more") if cursor else None
    items = timeline(
        viewer_of(request.user),
        record,
        limit=TIMELINE_PAGE,
        before=before,
        older_than=older_than,
    )
    more = timeline_cursor(items[-1]) if len(items) == TIMELINE_PAGE else ""
    return items, more


def health_panel(
    request: HttpRequest,
    record: Record,
    as_of: dt.date | None,
    *,
    trend: bool = False,
    knowers: bool = False,
) -> dict[str, Any]:
    """Health (with its trend chart when asked: a dozen more snapshots), or why there is none."""
    if record.deleted_at is not None:
        return {"why": "Deleted records have no health; restore it to see it."}
    if record.type_id not in ("person", "organization"):
        return {"why": f"Health is measured for people and organisations, not {record.type_id}."}
    try:
        data = health(viewer_of(request.user), record.id, as_of=as_of, trend=trend, knowers=knowers)
    except ValidationError as exc:
        return {"why": exc.message.removeprefix("ref: ")}
    data["chart"] = trend_chart(data["trend"]) if trend else None
    return data


def trend_chart(trend: list[dict[str, Any]]) -> dict[str, Any]:
    """Coordinates of a 0-100 line chart (inline SVG, drawn by the template)."""
    width, height, left, right, top, bottom = 320, 120, 26, 8, 8, 20
    n = len(trend)
    span_x = width - left - right
    span_y = height - top - bottom
    points = []
    for i, item in enumerate(trend):
        x = left + (span_x * i / (n - 1) if n > 1 else span_x / 2)
        y = top + span_y * (1 - max(0.0, min(100.0, float(item["score"]))) / 100)
        points.append({"x": round(x, 1), "y": round(y, 1), **item})
    labels = [p for i, p in enumerate(points) if i in (0, n - 1) or (n > 6 and i == n // 2)]
    spark_w, spark_h = 80, 22
    spark = [
        (
            round(2 + (spark_w - 4) * (i / (n - 1) if n > 1 else 0.5), 1),
            round(2 + (spark_h - 4) * (1 - max(0.0, min(100.0, float(t["score"]))) / 100), 1),
        )
        for i, t in enumerate(trend)
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "bottom": height - bottom,
        "right": width - right,
        "grid": [{"y": round(top + span_y * (1 - v / 100), 1), "v": v} for v in (0, 50, 100)],
        "points": points,
        "line": " ".join(f"{p['x']},{p['y']}" for p in points),
        "labels": labels,
        "spark": {
            "width": spark_w,
            "height": spark_h,
            "line": " ".join(f"{x},{y}" for x, y in spark),
            "last_x": spark[-1][0] if spark else 0,
            "last_y": spark[-1][1] if spark else 0,
        },
    }


def team_options(request: HttpRequest) -> tuple[list[tuple[str, str]], str]:
    """Our team (id, name) for "our side" of a logged interaction, and the default one."""
    viewer = viewer_of(request.user)
    named = names(set(team_ids()), viewer=viewer)
    options = sorted(named.items(), key=lambda x: (x[1].casefold(), x[0]))
    default = ""
    try:
        mine = resolve(viewer, request.user.get_username(), type_key="person")
        default = mine.id if mine.id in named else ""
    except KithError:
        pass
    return options, default or (options[0][0] if options else "")


PARTS = frozenset({"fields", "relationships", "activity", "health"})


def page_context(
    request: HttpRequest,
    record: Record,
    as_of: dt.date | None,
    parts: frozenset[str] = PARTS,
) -> dict[str, Any]:
    """What the record page (or the named ``parts`` of it, for a fragment) shows."""
    fresh = reloaded(record)
    ctx: dict[str, Any] = {
        "record": fresh,
        "view": record_view(fresh, viewer_of(request.user)),
        "today": clock.local_today().isoformat(),
        "as_of": as_of.isoformat() if as_of else "",
        "rel_errors": {},
        "rel_values": {},
        "log_errors": {},
        "log_values": {},
        "map_ok": fresh.deleted_at is None,
    }
    if "fields" in parts:
        past = values_as_of(fresh, day_end(as_of)) if as_of is not None else None
        ctx["existed"] = as_of is None or past is not None
        ctx["fields"] = field_rows(fresh, past or ({} if as_of is not None else None))
        ctx["shown_name"] = (past or {}).get("name", fresh.name)
    if "relationships" in parts:
        ctx["groups"] = relation_groups(request, fresh, as_of)
        ctx["type_options"] = type_options(fresh)
    if "activity" in parts:
        ctx["timeline"], ctx["more"] = timeline_page(request, fresh, as_of, "")
        ctx["team"], ctx["our_side"] = team_options(request)
        ctx.update(kinds=KINDS, sentiments=SENTIMENTS, directions=DIRECTIONS)
    if "health" in parts:
        ctx["health"] = health_panel(request, fresh, as_of, knowers=True)
        ctx["summary"] = summary_of(request, fresh, as_of, ctx["health"])
    return ctx


def summary_of(
    request: HttpRequest, record: Record, as_of: dt.date | None, health: dict[str, Any]
) -> dict[str, Any]:
    """The record page's summary header: health and band, last two-way contact, who on our
    team knows them best, the next planned interaction (none as of a past day: what was
    planned then is not kept, and a later interaction was not known yet)."""
    scored = "why" not in health
    return {
        "scored": scored,
        "why": health.get("why", ""),
        "last_two_way": health.get("last_two_way", "") if scored else "",
        "knowers": health.get("knowers", []) if scored else [],
        "next": next_planned(viewer_of(request.user), record) if as_of is None else None,
    }


def errors_of(exc: KithError, fields: dict[str, str], default: str) -> dict[str, str]:
    """Field of a form to message: the service's field mapped to the control at fault."""
    target = fields.get(exc.field or "", default)
    return {target: exc.message}
