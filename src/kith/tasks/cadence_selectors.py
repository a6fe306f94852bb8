"""Reads of keep-in-touch cadences: who is due, counted from the last real contact.

The last contact of every cadence comes from one set-based query over the pair table
(``intelligence_pairstat``: one row per team member, person, kind and day, maintained as
interactions are logged), so a scan grows with the cadences, not with the interactions.
A cadence on an organisation counts contact with it and with the people who work there
on the day. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from django.db import connection
from django.db.models import Count, Max, QuerySet

from kith.core import clock, counters
from kith.core.errors import NotFound, ValidationError
from kith.core.viewer import Viewer
from kith.intelligence import sql as q
from kith.intelligence.conf import model_config
from kith.intelligence.services import data_version
from kith.records.models import Record
from kith.records.selectors import (
    effective_viewer,
    hidden_records,
    hidden_sql,
    resolve,
    visible_q,
)
from kith.relationships.selectors import team_ids
from kith.tasks.models import Cadence

CAD = Cadence._meta.db_table
OK, DUE, OVERDUE, PAUSED = "ok", "due", "overdue", "paused"


@dataclass(frozen=True, slots=True)
class CadenceRow:
    """A cadence as the scan and the lists read it: plain values, no model instances (a
    scan of 10,000 reads 10,000 of these)."""

    id: str
    record_id: str
    record_name: str
    record_type: str
    member_id: str | None
    member_name: str | None
    ideal_days: int
    max_days: int
    counts: str
    contact: str
    paused_until: dt.date | None
    owner_id: int | None
    owner_email: str | None
    version: int


_ROW_FIELDS = (
    "id",
    "record_id",
    "record__name",
    "record__type_id",
    "member_id",
    "member__name",
    "ideal_days",
    "max_days",
    "counts",
    "contact",
    "paused_until",
    "owner_id",
    "owner__username",
    "version",
)


def row_of(c: Cadence) -> CadenceRow:
    """The plain row of one cadence model."""
    return CadenceRow(
        c.id,
        c.record_id,
        c.record.name,
        c.record.type_id,
        c.member_id,
        c.member.name if c.member else None,
        c.ideal_days,
        c.max_days,
        c.counts,
        c.contact,
        c.paused_until,
        c.owner_id,
        c.owner.username if c.owner else None,
        c.version,
    )


@dataclass(frozen=True, slots=True)
class CadenceState:
    """Where one cadence stands on a day, and why."""

    cadence: CadenceRow
    last: dt.date | None  # the last counting contact up to the day
    due_on: dt.date  # amber from this day (last + ideal)
    overdue_on: dt.date  # red after this day (last + max)
    status: str  # ok, due, overdue, paused
    reason: str


def _what(c: CadenceRow) -> str:
    kind = "two-way contact" if c.contact == "two_way" else "contact"
    who = f" by {c.member_name}" if c.member_id and c.counts == "member" else ""
    return kind + who


def last_contacts(
    cadence_ids: Iterable[str] | None, as_of: dt.date, *, viewer: Viewer
) -> dict[str, dt.date]:
    """The last counting contact (a UTC day) up to ``as_of`` of each cadence, in one query.

    ``cadence_ids`` None: every cadence. People hidden from ``viewer`` do not count.
    """
    ids = None if cadence_ids is None else list(cadence_ids)
    if ids is not None and not ids:
        return {}
    where, params = "", list[Any]()
    if ids is not None:
        marks, params = q.in_list(ids)
        where = f"AND w.cid IN {marks}"
    # SQLite: drive from the cadences into each one's relationships (CROSS JOIN fixes that
    # order); left to itself it scans every works_at and probes the cadences, which grows
    # with the relationships instead
    join = "CROSS JOIN" if connection.vendor == "sqlite" else "JOIN"
    rel_sql = (
        f"SELECT c.id AS cid, r.from_record_id AS pid FROM {CAD} c "
        f"{join} {q.REL} r ON r.to_record_id = c.record_id "
        f"JOIN {q.RTYPE} t ON t.{connection.ops.quote_name('key')} = r.type_key "
        f"WHERE t.rollup = %s AND (r.since IS NULL OR r.since <= %s) "
        f"AND (r.until IS NULL OR r.until > %s)"
    )
    hide, hide_params = hidden_sql(viewer, "w.pid")
    sql = f"""
        SELECT w.cid, MAX(p.day)
        FROM (SELECT c.id AS cid, c.record_id AS pid FROM {CAD} c
              UNION ALL {rel_sql}) w
        JOIN {CAD} c ON c.id = w.cid
        JOIN {q.PAIR} p ON p.person_id = w.pid AND p.day <= %s
             AND (CASE WHEN c.contact = 'any' THEN p.n ELSE p.n_two END) > 0
             AND (c.counts = 'team' OR c.member_id IS NULL OR p.member_id = c.member_id)
        WHERE 1 = 1 {where} {hide}
        GROUP BY w.cid
    """
    args = [True, as_of, as_of, as_of, *params, *hide_params]
    return {cid: d for cid, raw in q.fetch(sql, args) if (d := q.as_date(raw)) is not None}


def state_of(c: CadenceRow, last: dt.date | None, as_of: dt.date) -> CadenceState:
    """Ok until ``last + ideal``, due (amber) until ``last + max``, overdue (red) after."""
    what = _what(c)
    if last is None:
        due_on = overdue_on = as_of
        reason = f"no {what} yet; keep in touch every {c.ideal_days} days"
        status = OVERDUE
    else:
        due_on = last + dt.timedelta(days=c.ideal_days)
        overdue_on = last + dt.timedelta(days=c.max_days)
        gap = (as_of - last).days
        status = OVERDUE if as_of > overdue_on else DUE if as_of >= due_on else OK
        reason = f"last {what} {gap} days ago ({last.isoformat()}); keep in touch every " + (
            f"{c.ideal_days} days (at most {c.max_days})"
        )
    if c.paused_until and c.paused_until > as_of:
        status = PAUSED
        reason = f"paused until {c.paused_until.isoformat()}; " + reason
    return CadenceState(c, last, due_on, overdue_on, status, reason)


def visible_cadences(viewer: Viewer) -> QuerySet[Cadence]:
    """Cadences on records (and for members) ``viewer`` may see, live records only."""
    qs = Cadence.objects.filter(visible_q(viewer, "record__"), record__deleted_at__isnull=True)
    if not viewer.sees_everything:
        qs = qs.exclude(member__in=hidden_records(viewer))
    return qs


def states(
    viewer: Viewer,
    *,
    as_of: dt.date | None = None,
    member: Record | None = None,
    record: Record | None = None,
    fresh: bool = False,
) -> list[CadenceState]:
    """Every cadence ``viewer`` may see (for ``member`` / on ``record``) with its state.

    Two queries whatever the number of cadences: the cadences, and their last contacts.
    The unscoped answer is shared per data version unless ``fresh`` (the scan reads anew).
    """
    day = as_of or clock.today()
    if member is None and record is None and not fresh:
        who = effective_viewer(viewer)
        if who.sees_everything:  # everyone hidden nothing shares one answer per version
            return _memo(("states", day), lambda: _states(who, day, None, None))
        return _states(who, day, None, None)
    return _states(viewer, day, member, record)


_cache: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()
VERSION = "cadences"  # bumped by every cadence write (kith.tasks.cadence_services)


def _memo(name: tuple[Any, ...], make: Callable[[], list[CadenceState]]) -> list[CadenceState]:
    """``make()``, kept in this process while its inputs cannot have changed: the cadences'
    version, the intelligence data version (every logged interaction, relationship change
    and load) and the records' count and newest update and deletion."""
    rec = Record.objects.aggregate(n=Count("id"), u=Max("updated_at"), d=Max("deleted_at"))
    key = (
        *name,
        connection.settings_dict["NAME"],
        data_version(),
        counters.value(VERSION),
        *rec.values(),
    )
    with _lock:
        if key in _cache:
            return cast(list[CadenceState], _cache[key])
    value = make()
    with _lock:
        if len(_cache) >= 16:
            _cache.clear()
        _cache[key] = value
    return value


def _states(
    viewer: Viewer, day: dt.date, member: Record | None, record: Record | None
) -> list[CadenceState]:
    qs = visible_cadences(viewer)
    if member is not None:
        qs = qs.filter(member=member)
    if record is not None:
        qs = qs.filter(record=record)
    cadences = [CadenceRow(*values) for values in qs.order_by("id").values_list(*_ROW_FIELDS)]
    scoped = member is not None or record is not None
    lasts = last_contacts([c.id for c in cadences] if scoped else None, day, viewer=viewer)
    return [state_of(c, lasts.get(c.id), day) for c in cadences]


def cadence_view(s: CadenceState) -> dict[str, Any]:
    c = s.cadence
    return {
        "id": c.id,
        "record": {"id": c.record_id, "name": c.record_name, "type": c.record_type},
        "member": {"id": c.member_id, "name": c.member_name} if c.member_id else None,
        "every": c.ideal_days,
        "max": c.max_days,
        "counts": c.counts,
        "contact": c.contact,
        "paused_until": c.paused_until.isoformat() if c.paused_until else None,
        "owner": c.owner_email,
        "last_contact": s.last.isoformat() if s.last else None,
        "due_on": s.due_on.isoformat(),
        "overdue_on": s.overdue_on.isoformat(),
        "status": s.status,
        "band": {OK: "green", DUE: "amber", OVERDUE: "red", PAUSED: "grey"}[s.status],
        "reason": s.reason,
        "version": c.version,
    }


def list_cadences(
    viewer: Viewer, *, as_of: dt.date | None = None, record: Record | None = None
) -> list[dict[str, Any]]:
    """Every cadence ``viewer`` may see, with where it stands."""
    return [cadence_view(s) for s in states(viewer, as_of=as_of, record=record)]


_RANK = {OVERDUE: 0, DUE: 1, OK: 2, PAUSED: 3}


def due(
    viewer: Viewer,
    *,
    as_of: dt.date | None = None,
    member: Record | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Who is due or overdue on ``as_of``: red first, then longest since the last contact."""
    rows = [s for s in states(viewer, as_of=as_of, member=member) if s.status in (DUE, OVERDUE)]
    rows.sort(key=lambda s: (_RANK[s.status], s.last or dt.date.min, s.cadence.id))
    return [cadence_view(s) for s in (rows[:limit] if limit else rows)]


def get_cadence(viewer: Viewer, ref: str, *, member: Record | None = None) -> Cadence:
    """A cadence by id, or the one on record ``ref`` (for ``member``, else the team's)."""
    text = (ref or "").strip()
    if text.startswith("cad_"):
        found = (
            visible_cadences(viewer)
            .select_related("record", "member", "owner")
            .filter(pk=text)
            .first()
        )
        if found is None:
            raise NotFound(f"id: no cadence {ref!r}", field="id")
        return found
    record = resolve(viewer, text, field="ref")
    qs = visible_cadences(viewer).select_related("record", "member", "owner").filter(record=record)
    found = (qs.filter(member=member) if member else qs.filter(member__isnull=True)).first()
    if found is None:
        whose = f" for {member.name}" if member else ""
        raise NotFound(f"ref: no cadence on {record.name}{whose}", field="ref")
    return found


def check_member(viewer: Viewer, ref: str | None, *, field: str = "member") -> Record | None:
    """One of our people (a person on the home organisation's team today), or None."""
    if not ref:
        return None
    person = resolve(viewer, ref, type_key="person", field=field)
    if person.id not in set(team_ids(clock.today())):
        raise ValidationError(
            f"{field}: {ref!r} ({person.name}) is not one of our people "
            "(no works_at to the home organisation)",
            field=field,
        )
    return person


def suggestions(
    viewer: Viewer, *, as_of: dt.date | None = None, limit: int = 20, min_contacts: int = 3
) -> list[dict[str, Any]]:
    """Each relationship's usual cadence from the model (a suggestion, with its evidence):
    the people our team has had ``min_contacts``+ two-way days with and no cadence yet."""
    day = as_of or clock.today()
    cfg = model_config()
    hide, hide_params = hidden_sql(viewer, "p.person_id")
    team = team_ids(day)
    team_in, team_params = q.in_list(team)
    not_team = f"AND p.person_id NOT IN {team_in}" if team else ""
    sql = f"""
        SELECT p.person_id, COUNT(DISTINCT p.day), MIN(p.day), MAX(p.day), SUM(p.n_two)
        FROM {q.PAIR} p JOIN {q.REC} r ON r.id = p.person_id
        WHERE p.n_two > 0 AND p.day <= %s AND r.deleted_at IS NULL AND r.type_key = 'person'
          {not_team}
          AND NOT EXISTS (SELECT 1 FROM {CAD} c WHERE c.record_id = p.person_id) {hide}
        GROUP BY p.person_id
        HAVING COUNT(DISTINCT p.day) >= %s
        ORDER BY COUNT(DISTINCT p.day) DESC, p.person_id
        LIMIT %s
    """
    rows = q.fetch(sql, [day, *team_params, *hide_params, min_contacts, limit])
    names = dict(Record.objects.filter(pk__in=[r[0] for r in rows]).values_list("id", "name"))
    out = []
    for pid, days, first, last, n_two in rows:
        first_d, last_d = q.as_date(first), q.as_date(last)
        assert first_d is not None and last_d is not None
        raw = (last_d - first_d).days / max(int(days) - 1, 1)
        every = round(min(max(raw, cfg["min_cadence_days"]), cfg["max_cadence_days"]))
        out.append(
            {
                "record": {"id": pid, "name": names.get(pid, pid), "type": "person"},
                "every": every,
                "max": round(every * 1.5),
                "suggestion": True,
                "evidence": {
                    "two_way_days": int(days),
                    "two_way": int(n_two or 0),
                    "first": first_d.isoformat(),
                    "last": last_d.isoformat(),
                },
                "why": (
                    f"you talk every ~{every} days, {int(n_two or 0)} two-way contacts "
                    f"since {first_d.year}"
                ),
            }
        )
    return out
