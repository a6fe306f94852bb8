"""Reads of interactions: one interaction, and the timeline of any record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from kith.core import clock
from kith.core.errors import NotFound, ValidationError
from kith.core.paging import decode, encode, keyset, parse_sort
from kith.core.parse import parse_datetime
from kith.core.viewer import Viewer
from kith.interactions.models import Interaction, InteractionLink, Participant
from kith.records.models import Record
from kith.records.selectors import hidden_sql, visible_q
from kith.relationships.models import Relationship, RelationshipType

_P = Participant._meta.db_table
_L = InteractionLink._meta.db_table
_R = Relationship._meta.db_table
_T = RelationshipType._meta.db_table

# The timeline of a record: what it took part in, what was linked to it, and what the
# holders of a rollup tie to it (its employees) took part in while the tie was in force.
# {span} bounds each branch by time so that the (record, at) indexes do the work.
_TIMELINE_SQL = f"""
SELECT t.interaction_id, MAX(t.at) AS at, MIN(t.via) AS via FROM (
    SELECT interaction_id, at, '' AS via FROM {_P} WHERE record_id = %s {{span}}
    UNION ALL
    SELECT interaction_id, at, '' AS via FROM {_L} WHERE record_id = %s {{span}}
    UNION ALL
    SELECT p.interaction_id, p.at, p.record_id AS via
    FROM {_R} r JOIN {_P} p ON p.record_id = r.from_record_id
    WHERE r.to_record_id = %s
      AND r.type_key IN (SELECT key FROM {_T} WHERE rollup = %s)
      AND (r.since IS NULL OR p.at >= r.since)
      AND (r.until IS NULL OR p.at < r.until) {{span_p}} {{hide}}
) t
{{join}}
GROUP BY t.interaction_id {{having}}
ORDER BY MAX(t.at) DESC, t.interaction_id DESC
LIMIT %s
"""
# The newest time on that timeline (under the same bounds): one index seek per branch, and
# one per holder of a rollup tie (e.g. per employee). With it, each own branch's page-th
# newest time (k: that branch alone fills a page from there on) and how many holders the
# record has (h): without holders, the page lies at or after the later k.
_NEWEST_SQL = f"""
SELECT MAX(t.m), MAX(t.k), COUNT(t.h) FROM (
    SELECT MAX(at) AS m, (
        SELECT at FROM {_P} WHERE record_id = %s {{span}} ORDER BY at DESC LIMIT 1 OFFSET %s
    ) AS k, NULL AS h
    FROM {_P} WHERE record_id = %s {{span}}
    UNION ALL
    SELECT MAX(at) AS m, (
        SELECT at FROM {_L} WHERE record_id = %s {{span}} ORDER BY at DESC LIMIT 1 OFFSET %s
    ) AS k, NULL AS h
    FROM {_L} WHERE record_id = %s {{span}}
    UNION ALL
    SELECT (
        SELECT MAX(p.at) FROM {_P} p
        WHERE p.record_id = r.from_record_id
          AND (r.since IS NULL OR p.at >= r.since)
          AND (r.until IS NULL OR p.at < r.until) {{span_p}}
    ) AS m, NULL AS k, r.id AS h
    FROM {_R} r
    WHERE r.to_record_id = %s
      AND r.type_key IN (SELECT key FROM {_T} WHERE rollup = %s) {{hide}}
) t
"""
# Look back this long from the newest item first, widening until the page is full: the cost
# follows the page, not the whole history (a home organisation's timeline holds everything).
_WINDOWS = tuple(dt.timedelta(hours=h) for h in (1, 24, 30 * 24, 365 * 24))


def get_interaction(interaction_id: str) -> Interaction:
    found = _with_people(
        Interaction.objects.filter(pk=interaction_id, deleted_at__isnull=True)
    ).first()
    if found is None:
        raise NotFound(f"id: no interaction {interaction_id!r}", field="id")
    return found


def _with_people(qs: QuerySet[Interaction]) -> QuerySet[Interaction]:
    return qs.prefetch_related(
        Prefetch("participants", queryset=Participant.objects.select_related("record")),
        Prefetch("links", queryset=InteractionLink.objects.select_related("record")),
    )


def interaction_view(i: Interaction, via: Record | None = None) -> dict[str, Any]:
    """JSON form of an interaction with its participants and links."""
    view: dict[str, Any] = {
        "id": i.id,
        "kind": i.kind,
        "at": i.at.isoformat(),
        "duration": i.duration,
        "subject": i.subject,
        "direction": i.direction or None,
        "sentiment": i.sentiment,
        "score": i.score,
        "outcome": i.outcome or None,
        "external_id": i.external_id,
        "thread_id": i.thread_id or None,
        "participants": [
            {"id": p.record_id, "name": p.record.name, "role": p.role} for p in i.participants.all()
        ],
        "links": [{"id": link.record_id, "name": link.record.name} for link in i.links.all()],
        "planned": i.at > clock.now(),  # upcoming: no last contact, no score until it happens
    }
    if via is not None:
        view["via"] = {"id": via.id, "name": via.name}
    return view


TimelineKey = tuple[dt.datetime, str]  # (at, id) of the last item of a page


def timeline_cursor(item: dict[str, Any]) -> str:
    """The opaque cursor of the page after ``item`` (its time and id: several interactions
    can share a second, and none of them may fall between two pages)."""
    return encode([item["at"], item["id"]])


def parse_timeline_cursor(text: str, *, field: str = "cursor") -> TimelineKey:
    """The (time, id) a :func:`timeline_cursor` holds; a forged one is a ValidationError."""
    value = decode(text)
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, str) and v for v in value)
    ):
        raise ValidationError(f"{field}: not a cursor of this timeline", field=field)
    at = parse_datetime(value[0], field=field)
    if at is None:
        raise ValidationError(f"{field}: not a cursor of this timeline", field=field)
    return at, value[1][:64]


def _bounds(
    upper: dt.datetime | None, older_than: TimelineKey | None
) -> tuple[str, str, list[Any]]:
    """The upper time bounds as SQL for the branches (``at``, ``p.at``) and their values."""
    span, span_p, bounds = "", "", []
    bound_at = [("<", upper)]
    if older_than is not None:
        bound_at.append(("<=", older_than[0]))
    for op, value in bound_at:
        if value is not None:
            span += f" AND at {op} %s"
            span_p += f" AND p.at {op} %s"
            bounds.append(connection.ops.adapt_datetimefield_value(value))
    return span, span_p, bounds


def _aware(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value  # SQLite
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _newest(
    viewer: Viewer,
    record: Record,
    upper: dt.datetime | None,
    older_than: TimelineKey | None,
    limit: int = 1,
) -> tuple[dt.datetime | None, dt.datetime | None, int]:
    """The time of the newest item on ``record``'s timeline below the bounds (if any); the
    latest time from which its participations or its links alone hold ``limit`` items (if
    either does); and how many holders of a rollup tie to it there are."""
    span, span_p, bounds = _bounds(upper, older_than)
    hide, hide_params = hidden_sql(viewer, "r.from_record_id")
    params: list[Any] = []
    for _ in range(2):  # the participations', then the links' branch
        params += [record.id, *bounds, limit - 1, record.id, *bounds]
    params += [*bounds, record.id, True, *hide_params]
    with connection.cursor() as cur:
        cur.execute(_NEWEST_SQL.format(span=span, span_p=span_p, hide=hide), params)
        newest, kth, holders = cur.fetchone()
    return _aware(newest), _aware(kth), int(holders or 0)


def _timeline_rows(
    viewer: Viewer,
    record: Record,
    limit: int,
    lower: dt.datetime | None,
    upper: dt.datetime | None,
    older_than: TimelineKey | None,
    kinds: list[str],
) -> list[tuple[Any, ...]]:
    span, span_p, bounds = _bounds(upper, older_than)
    if lower is not None:
        span += " AND at >= %s"
        span_p += " AND p.at >= %s"
        bounds.append(connection.ops.adapt_datetimefield_value(lower))
    having, having_params = "", []
    if older_than is not None:  # at the cursor's second only the ids below it remain
        having = "HAVING MAX(t.at) < %s OR t.interaction_id < %s"
        having_params = [connection.ops.adapt_datetimefield_value(older_than[0]), older_than[1]]
    join = ""
    if kinds:
        marks = ", ".join(["%s"] * len(kinds))
        join = (
            f"JOIN {Interaction._meta.db_table} i "
            f"ON i.id = t.interaction_id AND i.kind IN ({marks})"
        )
    hide, hide_params = hidden_sql(viewer, "r.from_record_id")  # via a hidden employee
    params: list[Any] = [record.id, *bounds, record.id, *bounds, record.id, True, *bounds]
    params += [*hide_params, *kinds, *having_params, limit]
    sql = _TIMELINE_SQL.format(span=span, span_p=span_p, hide=hide, join=join, having=having)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def timeline(
    viewer: Viewer,
    record: Record,
    *,
    limit: int = 50,
    before: dt.datetime | None = None,
    older_than: TimelineKey | None = None,
    kinds: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """The newest interactions on ``record``'s timeline, newest first, as ``viewer`` sees
    them: none reaches it through a hidden employee, and hidden participants and links are
    left out. ``before`` is a time (strictly earlier); ``older_than`` the (time, id) of the
    previous page's last item, in the (time, id) order the page is sorted in."""
    if limit < 1 or limit > 10_000:
        raise ValidationError("limit: must be between 1 and 10000", field="limit")
    kind_list = sorted({k.strip().lower() for k in kinds if k.strip()})
    newest, kth, holders = _newest(viewer, record, before, older_than, limit)
    lowers: list[dt.datetime | None] = []
    if newest is not None and holders:  # its employees' items too: widen from the newest
        lowers = [newest - window for window in _WINDOWS]
    elif newest is not None and kth is not None:  # its own items only: from where one
        # branch fills the page, then (kinds left out, an item twice, the cursor's second)
        # the windows that reach further back; fewer than a page in each branch: all of it
        lowers = [kth, *(newest - window for window in _WINDOWS if newest - window < kth)]
    rows: list[tuple[Any, ...]] = []
    for lower in (*lowers, None) if newest is not None else ():
        rows = _timeline_rows(viewer, record, limit, lower, before, older_than, kind_list)
        if len(rows) >= limit:
            break
    return _views(viewer, [r[0] for r in rows], {r[0]: r[2] for r in rows if r[2]})


_VIEW_FIELDS = ("id", "kind", "at", "duration", "subject", "direction", "sentiment", "score",
                "outcome", "external_id", "thread_id")  # fmt: skip


def _views(viewer: Viewer, ids: list[str], via_ids: dict[str, str]) -> list[dict[str, Any]]:
    """:func:`interaction_view` of each of ``ids`` the viewer may see, in that order, read as
    plain rows (four queries, no model instances: a timeline page is read often)."""
    people, linked = _seen_by(viewer)
    found = visible_interactions(viewer).prefetch_related(None).filter(pk__in=ids)
    by_id = {row[0]: row for row in found.values_list(*_VIEW_FIELDS)}
    parts: dict[str, list[dict[str, Any]]] = {}
    for iid, rid, name, role in people.filter(interaction_id__in=list(by_id)).values_list(
        "interaction_id", "record_id", "record__name", "role"
    ):
        parts.setdefault(iid, []).append({"id": rid, "name": name, "role": role})
    links: dict[str, list[dict[str, Any]]] = {}
    for iid, rid, name in linked.filter(interaction_id__in=list(by_id)).values_list(
        "interaction_id", "record_id", "record__name"
    ):
        links.setdefault(iid, []).append({"id": rid, "name": name})
    vias = dict(Record.objects.filter(pk__in=set(via_ids.values())).values_list("id", "name"))
    now = clock.now()
    out = []
    for iid in ids:
        if iid not in by_id:
            continue
        _, kind, at, duration, subject, direction, sentiment, score, outcome, ext, thread = by_id[
            iid
        ]
        view: dict[str, Any] = {
            "id": iid,
            "kind": kind,
            "at": at.isoformat(),
            "duration": duration,
            "subject": subject,
            "direction": direction or None,
            "sentiment": sentiment,
            "score": score,
            "outcome": outcome or None,
            "external_id": ext,
            "thread_id": thread or None,
            "participants": parts.get(iid, []),
            "links": links.get(iid, []),
            "planned": at > now,
        }
        via = via_ids.get(iid, "")
        if via in vias:
            view["via"] = {"id": via, "name": vias[via]}
        out.append(view)
    return out


INTERACTION_SORTS = {"at": "at"}


def _seen_by(viewer: Viewer) -> tuple[QuerySet[Participant], QuerySet[InteractionLink]]:
    """Participants and links of records ``viewer`` may see, with their records."""
    people = Participant.objects.select_related("record").filter(visible_q(viewer, "record__"))
    linked = InteractionLink.objects.select_related("record").filter(visible_q(viewer, "record__"))
    return people, linked


def visible_interactions(viewer: Viewer) -> QuerySet[Interaction]:
    """Interactions with a participant or link ``viewer`` may see, with only those prefetched.

    A private record ``viewer`` may not see is left out of the participants and links, and
    an interaction among such records only is not there at all.
    """
    people, linked = _seen_by(viewer)
    qs = Interaction.objects.filter(deleted_at__isnull=True)
    if not viewer.sees_everything:
        # correlated EXISTS, not IN (subquery): asked of a page of ids, PostgreSQL then looks
        # up each interaction's participants by index instead of hashing every visible
        # participant of the workspace first (a 20-item timeline: 100-200 ms -> ~1 ms)
        qs = qs.filter(
            Exists(people.filter(interaction_id=OuterRef("pk")))
            | Exists(linked.filter(interaction_id=OuterRef("pk")))
        )
    return qs.prefetch_related(
        Prefetch("participants", queryset=people), Prefetch("links", queryset=linked)
    )


def interactions_page(
    viewer: Viewer,
    *,
    record: Record | None = None,
    kind: str | None = None,
    since: str | dt.datetime | None = None,
    until: str | dt.datetime | None = None,
    sort: str = "-at",
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    """A cursor page of interactions ``viewer`` may see, by participant, kind and time."""
    field, desc = parse_sort(sort, INTERACTION_SORTS)
    qs = visible_interactions(viewer)
    if record is not None:
        ids = Participant.objects.filter(record=record).values("interaction_id")
        linked = InteractionLink.objects.filter(record=record).values("interaction_id")
        qs = qs.filter(Q(pk__in=ids) | Q(pk__in=linked))
    if kind:
        qs = qs.filter(kind=kind.strip().lower())
    start = parse_datetime(since, field="since") if since else None
    end = parse_datetime(until, field="until") if until else None
    if start is not None:
        qs = qs.filter(at__gte=start)
    if end is not None:
        qs = qs.filter(at__lt=end)
    rows, nxt = keyset(qs, field=field, desc=desc, cursor=cursor, limit=limit)
    return [interaction_view(i) for i in rows], nxt


def next_planned(
    viewer: Viewer, record: Record, *, after: dt.datetime | None = None
) -> dict[str, Any] | None:
    """The first interaction after ``after`` (default now: the next planned one) that
    ``record`` takes part in or is linked to, among those ``viewer`` may see; None if none."""
    start = after or clock.now()
    ids = Participant.objects.filter(record=record, at__gt=start).values("interaction_id")
    linked = InteractionLink.objects.filter(record=record, at__gt=start).values("interaction_id")
    qs = visible_interactions(viewer).filter(Q(pk__in=ids) | Q(pk__in=linked), at__gt=start)
    first = qs.order_by("at", "id").first()
    return interaction_view(first) if first is not None else None


def recent_interactions(viewer: Viewer, *, limit: int = 12) -> list[dict[str, Any]]:
    """The newest interactions ``viewer`` may see across the workspace, newest first."""
    qs = visible_interactions(viewer).order_by("-at", "-id")
    return [interaction_view(i) for i in qs[:limit]]


def interaction_record_view(viewer: Viewer, i: Interaction) -> dict[str, Any]:
    """An interaction as a write left it, deleted or not (its participants as stored, or
    as kept for a restore), with its version and deletion time; only the participants and
    links ``viewer`` may see are named."""
    people, linked = _seen_by(viewer)
    fresh = (
        Interaction.objects.filter(pk=i.pk)
        .prefetch_related(
            Prefetch("participants", queryset=people), Prefetch("links", queryset=linked)
        )
        .get()
    )
    view = interaction_view(fresh)
    if fresh.trashed:
        kept = {r for r, _ in fresh.trashed["participants"]} | set(fresh.trashed["links"])
        names = dict(
            Record.objects.filter(visible_q(viewer), pk__in=kept).values_list("id", "name")
        )
        view["participants"] = [
            {"id": r, "name": names[r], "role": role}
            for r, role in fresh.trashed["participants"]
            if r in names
        ]
        view["links"] = [{"id": r, "name": names[r]} for r in fresh.trashed["links"] if r in names]
    view["version"] = fresh.version or 0
    view["deleted_at"] = fresh.deleted_at.isoformat() if fresh.deleted_at else None
    return view


def check_correctable(viewer: Viewer, interaction_id: str) -> str:
    """The id of an interaction ``viewer`` may correct (they see one of its participants or
    links, kept ones of a deleted interaction included); else the NotFound of a missing one.
    """
    key = (interaction_id or "").strip()[:40]
    found = Interaction.objects.filter(pk=key).first()
    if found is not None:
        if found.trashed:
            ids = {r for r, _ in found.trashed["participants"]} | set(found.trashed["links"])
        else:
            ids = set(
                Participant.objects.filter(interaction=found).values_list("record_id", flat=True)
            )
            ids |= set(
                InteractionLink.objects.filter(interaction=found).values_list(
                    "record_id", flat=True
                )
            )
        if Record.objects.filter(visible_q(viewer), pk__in=ids).exists():
            return found.id
    raise NotFound(f"id: no interaction {interaction_id!r}", field="id")


def interaction_detail(viewer: Viewer, interaction_id: str) -> dict[str, Any]:
    """One interaction ``viewer`` may see, with the participants and links it may see."""
    found = visible_interactions(viewer).filter(pk=(interaction_id or "").strip()).first()
    if found is None:
        raise NotFound(f"id: no interaction {interaction_id!r}", field="id")
    return interaction_view(found)
