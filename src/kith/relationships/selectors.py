"""Reads of relationships: from either end, as of any date."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from kith.core import clock
from kith.core.errors import Ambiguous, NotFound, ValidationError
from kith.core.models import Change
from kith.core.paging import keyset, parse_sort
from kith.core.parse import parse_date
from kith.core.selectors import change_view
from kith.core.viewer import Viewer
from kith.records.models import ContactPoint, Record
from kith.records.selectors import home_org, record_summary, visible_q
from kith.relationships.models import Relationship, RelationshipType


def active_on(day: dt.date) -> Q:
    """Relationships in force on ``day`` (``until`` is the first day it no longer holds)."""
    return (Q(since__isnull=True) | Q(since__lte=day)) & (Q(until__isnull=True) | Q(until__gt=day))


def get_relationship(rel_id: str) -> Relationship:
    found = (
        Relationship.objects.select_related("type", "from_record", "to_record")
        .filter(pk=(rel_id or "").strip())
        .first()
    )
    if found is None:
        raise NotFound(f"rel_id: no relationship {rel_id!r}", field="rel_id")
    return found


def candidate_types(name: str) -> list[tuple[RelationshipType, bool]]:
    """Types that ``name`` can mean, with ``True`` when read forwards."""
    key = (name or "").strip().lower().replace("-", "_").replace(" ", "_")
    forward = [(t, True) for t in RelationshipType.objects.filter(key=key)]
    backward = [(t, False) for t in RelationshipType.objects.filter(inverse=key, symmetric=False)]
    return forward + backward


def other_end_types(name: str, from_type: str) -> list[str] | None:
    """The record types ``b`` may have in ``a NAME b`` when ``a`` is a ``from_type``:
    ``None`` when any type may (or ``name`` is no known type), ``[]`` when none fits."""
    options = candidate_types(name)
    if not options:
        return None
    out: set[str] = set()
    for rtype, forward in options:
        src, dst = (
            (rtype.from_types, rtype.to_types) if forward else (rtype.to_types, rtype.from_types)
        )
        if src and from_type not in src:
            continue
        if not dst:
            return None
        out.update(dst)
    return sorted(out)


def _allowed(types: list[str], record: Record) -> bool:
    return not types or record.type_id in types


def resolve_type(name: str, a: Record, b: Record) -> tuple[RelationshipType, bool]:
    """Find the type ``a NAME b`` means; ``False`` means it is stored as ``b TYPE a``."""
    options = candidate_types(name)
    if not options:
        known = ", ".join(
            sorted(
                {t.key for t in RelationshipType.objects.all()}
                | {t.inverse for t in RelationshipType.objects.exclude(inverse="")}
            )
        )
        raise NotFound(f"type: unknown relationship type {name!r} (known: {known})", field="type")
    fitting = []
    for rtype, forward in options:
        src, dst = (a, b) if forward else (b, a)
        if _allowed(rtype.from_types, src) and _allowed(rtype.to_types, dst):
            fitting.append((rtype, forward))
    if len(fitting) == 1:
        return fitting[0]
    if not fitting:
        rtype, forward = options[0]
        ends = (
            f"{'|'.join(rtype.from_types) or 'any'} -> {'|'.join(rtype.to_types) or 'any'}"
            if forward
            else f"{'|'.join(rtype.to_types) or 'any'} -> {'|'.join(rtype.from_types) or 'any'}"
        )
        raise ValidationError(
            f"type: {name} joins {ends}, not {a.type_id} {a.name!r} -> {b.type_id} {b.name!r}",
            field="type",
        )
    raise Ambiguous(name, [f"{t.key} ({'forward' if f else 'inverse'})" for t, f in fitting])


def relationship_view(rel: Relationship, viewer: Record | None = None) -> dict[str, Any]:
    """JSON form of a relationship; from ``viewer``'s end when given."""
    forward = viewer is None or rel.from_record_id == viewer.id
    other = rel.to_record if forward else rel.from_record
    today = clock.today()
    view: dict[str, Any] = {
        "id": rel.id,
        "type": rel.type_id,
        "label": rel.type.label_from(forward),
        "from": {
            "id": rel.from_record_id,
            "name": rel.from_record.name,
            "type": rel.from_record.type_id,
        },
        "to": {"id": rel.to_record_id, "name": rel.to_record.name, "type": rel.to_record.type_id},
        "role": rel.role,
        "since": rel.since.isoformat() if rel.since else None,
        "until": rel.until.isoformat() if rel.until else None,
        "active": (rel.since is None or rel.since <= today)
        and (rel.until is None or rel.until > today),
        "upcoming": rel.since is not None and rel.since > today,  # starts later: not ended
        "note": rel.note,
        "source": rel.source,
    }
    if viewer is not None:
        view["other"] = {"id": other.id, "name": other.name, "type": other.type_id}
    return view


def relations_of(
    record: Record, *, as_of: dt.date | None = None, type_name: str | None = None
) -> QuerySet[Relationship]:
    """Every relationship touching ``record`` (optionally in force on ``as_of``)."""
    qs = Relationship.objects.filter(Q(from_record=record) | Q(to_record=record)).select_related(
        "type", "from_record", "to_record"
    )
    if as_of is not None:
        qs = qs.filter(active_on(as_of))
    if type_name:
        qs = qs.filter(_type_filter(record, type_name))
    return qs.filter(from_record__deleted_at__isnull=True, to_record__deleted_at__isnull=True)


def _type_filter(record: Record, type_name: str) -> Q:
    key = type_name.strip().lower().replace("-", "_")
    if not candidate_types(key):
        raise NotFound(f"type: unknown relationship type {type_name!r}", field="type")
    return (Q(from_record=record) & Q(type_id=key)) | (
        Q(to_record=record) & (Q(type__inverse=key) | Q(type__symmetric=True, type_id=key))
    )


_VIEW_FIELDS = (
    "id",
    "type_id",
    "type__inverse",
    "type__symmetric",
    "role",
    "since",
    "until",
    "note",
    "source",
    "from_record_id",
    "from_record__name",
    "from_record__type_id",
    "to_record_id",
    "to_record__name",
    "to_record__type_id",
)


def relations_view(
    viewer: Viewer,
    record: Record,
    *,
    as_of: dt.date | None = None,
    type_name: str | None = None,
) -> list[dict[str, Any]]:
    """Relationships of ``record`` as seen from it, active ones first, to records ``viewer``
    may see (a tie to a hidden record is left out in the query).

    Reads plain rows (no model instances), one indexed query per end: records with
    thousands of relationships answer in milliseconds.
    """
    day = as_of or clock.today()
    rows: list[dict[str, Any]] = []
    for end in ("from_record", "to_record"):
        qs = Relationship.objects.filter(**{end: record})
        if as_of is not None:
            qs = qs.filter(active_on(as_of))
        if type_name:
            qs = qs.filter(_type_filter(record, type_name))
        other = "to_record" if end == "from_record" else "from_record"
        qs = qs.filter(visible_q(viewer, f"{other}__"), **{f"{other}__deleted_at__isnull": True})
        for r in qs.values(*_VIEW_FIELDS):
            forward = end == "from_record"
            label = (
                r["type_id"]
                if forward or r["type__symmetric"]
                else (r["type__inverse"] or r["type_id"])
            )
            since, until = r["since"], r["until"]
            rows.append(
                {
                    "id": r["id"],
                    "type": r["type_id"],
                    "label": label,
                    "from": {
                        "id": r["from_record_id"],
                        "name": r["from_record__name"],
                        "type": r["from_record__type_id"],
                    },
                    "to": {
                        "id": r["to_record_id"],
                        "name": r["to_record__name"],
                        "type": r["to_record__type_id"],
                    },
                    "role": r["role"],
                    "since": since.isoformat() if since else None,
                    "until": until.isoformat() if until else None,
                    "active": (since is None or since <= day) and (until is None or until > day),
                    "upcoming": since is not None and since > day,
                    "note": r["note"],
                    "source": r["source"],
                    "other": {
                        "id": r[f"{other}_id"],
                        "name": r[f"{other}__name"],
                        "type": r[f"{other}__type_id"],
                    },
                }
            )
    rows.sort(key=lambda r: (not r["active"], r["label"], r["other"]["name"], r["id"]))
    return rows


def list_types() -> list[dict[str, Any]]:
    return [
        {
            "key": t.key,
            "inverse": t.inverse or None,
            "symmetric": t.symmetric,
            "from_types": t.from_types,
            "to_types": t.to_types,
            "rollup": t.rollup,
            "builtin": t.builtin,
        }
        for t in RelationshipType.objects.order_by("-builtin", "key")
    ]


def rollup_type_keys() -> list[str]:
    return list(RelationshipType.objects.filter(rollup=True).values_list("key", flat=True))


def team_ids(as_of: dt.date | None = None) -> list[str]:
    """Ids of our team: people who hold a rollup tie (``works_at``) to the home org."""
    home = home_org()
    if home is None:
        return []
    day = as_of or clock.today()
    qs = Relationship.objects.filter(
        active_on(day), to_record=home, type__rollup=True, from_record__deleted_at__isnull=True
    )
    return sorted(set(qs.values_list("from_record_id", flat=True)))


def team(viewer: Viewer, as_of: dt.date | None = None) -> list[dict[str, Any]]:
    """Our team as of a day (default today), the people ``viewer`` may see, by name."""
    qs = Record.objects.filter(visible_q(viewer), pk__in=team_ids(as_of))
    return [record_summary(r) for r in qs.prefetch_related("contacts").order_by("name_key")]


def validate_as_of(value: str | dt.date | None) -> dt.date | None:
    try:
        return parse_date(value, field="as_of")
    except ValidationError:
        raise ValidationError(
            f"--as-of: {value!r} is not a valid date (expected YYYY-MM-DD)", field="as_of"
        ) from None


REL_SORTS = {"created_at": "created_at", "id": "id"}


def visible_relationships(viewer: Viewer) -> QuerySet[Relationship]:
    """Relationships whose two ends ``viewer`` may see."""
    return Relationship.objects.filter(
        visible_q(viewer, "from_record__"), visible_q(viewer, "to_record__")
    )


def visible_relationship(viewer: Viewer, rel_id: str) -> Relationship:
    """The relationship ``rel_id`` if ``viewer`` may see both its ends; else not found."""
    found = (
        visible_relationships(viewer)
        .select_related("type", "from_record", "to_record")
        .filter(pk=(rel_id or "").strip())
        .first()
    )
    if found is None:
        raise NotFound(f"rel_id: no relationship {rel_id!r}", field="rel_id")
    return found


def relationships_page(
    viewer: Viewer,
    *,
    record: Record | None = None,
    type_key: str | None = None,
    as_of: dt.date | None = None,
    sort: str = "created_at",
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    """A cursor page of live relationships ``viewer`` may see, of one record or type."""
    field, desc = parse_sort(sort, REL_SORTS)
    qs = visible_relationships(viewer).select_related("type", "from_record", "to_record")
    qs = qs.filter(from_record__deleted_at__isnull=True, to_record__deleted_at__isnull=True)
    if record is not None:
        qs = qs.filter(Q(from_record=record) | Q(to_record=record))
    if type_key:
        qs = qs.filter(type_id=type_key.strip().lower())
    if as_of is not None:
        qs = qs.filter(active_on(as_of))
    rows, nxt = keyset(qs, field=field, desc=desc, cursor=cursor, limit=limit)
    return [relationship_view(r, record) for r in rows], nxt


def record_history(
    viewer: Viewer,
    record: Record,
    *,
    cursor: str | None = None,
    limit: int = 100,
    newest_first: bool = False,
) -> tuple[list[dict[str, Any]], str | None]:
    """A cursor page of the history of ``record`` and of its relationships ``viewer`` may see.

    The one history read behind ``kith history``, the API and the web page: paged in the
    query, so a page costs the same however long the history is.
    """
    rels = visible_relationships(viewer).filter(Q(from_record=record) | Q(to_record=record))
    qs = Change.objects.filter(Q(entity_id=record.id) | Q(entity_id__in=rels.values("id")))
    rows, nxt = keyset(qs, field="id", desc=newest_first, cursor=cursor, limit=limit)
    return [change_view(c) for c in rows], nxt


def first_team_email() -> str | None:
    """The email of the first of our team (by name) who has one."""
    return (
        ContactPoint.objects.filter(record_id__in=team_ids(), kind="email")
        .order_by("record__name_key", "value")
        .values_list("value", flat=True)
        .first()
    )


def employers(
    viewer: Viewer, ids: list[str], *, day: dt.date | None = None
) -> dict[str, list[dict[str, str]]]:
    """Per person id: the organisations they work at on ``day`` (rollup ties) that the
    viewer may see, by name."""
    out: dict[str, list[dict[str, str]]] = {}
    if not ids:
        return out
    rows = (
        Relationship.objects.filter(
            active_on(day or clock.today()),
            visible_q(viewer, "to_record__"),
            from_record_id__in=ids,
            type__rollup=True,
            to_record__deleted_at__isnull=True,
        )
        .order_by("to_record__name_key", "id")
        .values_list("from_record_id", "to_record_id", "to_record__name")
    )
    for pid, oid, name in rows:
        out.setdefault(pid, []).append({"id": oid, "name": name})
    return out
