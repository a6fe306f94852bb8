"""Reads behind the API's lists: filtered, sorted, cursor-paged, and private records hidden.

These are selectors (no HTTP here); every one takes the calling ``user``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch, Q

from kith.accounts.selectors import can_see, hidden_ids, visible_q
from kith.core.errors import NotFound, ValidationError
from kith.core.models import Change
from kith.core.parse import parse_datetime
from kith.core.selectors import change_view
from kith.interactions.models import Interaction, InteractionLink, Participant
from kith.interactions.selectors import interaction_view
from kith.records.models import ContactPoint, Record
from kith.records.normalize import name_key
from kith.records.selectors import get_type, record_summary, resolve
from kith.relationships.models import Relationship
from kith.relationships.selectors import active_on, relationship_view
from kith.server.paging import keyset, parse_sort

RECORD_SORTS = {"name": "name_key", "created_at": "created_at", "updated_at": "updated_at"}
REL_SORTS = {"created_at": "created_at", "id": "id"}
INTERACTION_SORTS = {"at": "at"}


def visible_record(user: Any, ref: str, *, field: str = "ref", deleted: bool = False) -> Record:
    """Resolve ``ref`` among the records ``user`` may see (a hidden one is not found)."""
    record = resolve(ref, include_deleted=deleted, field=field)
    if not can_see(user, record):
        raise NotFound(f"{field}: no record matches {ref!r}", field=field)
    return record


def records_page(
    user: Any,
    *,
    type_key: str | None = None,
    q: str | None = None,
    sort: str = "name",
    cursor: str | None = None,
    limit: int = 50,
    include_deleted: bool = False,
) -> tuple[list[dict[str, Any]], str | None]:
    """Records ``user`` may see, filtered by type and a name/contact search."""
    field, desc = parse_sort(sort, RECORD_SORTS)
    qs = Record.objects.filter(visible_q(user))
    if not include_deleted:
        qs = qs.filter(deleted_at__isnull=True)
    if type_key:
        qs = qs.filter(type_id=get_type(type_key).key)
    if q and q.strip():
        term = q.strip()
        if len(term) > 300:
            raise ValidationError("q: longer than 300 characters", field="q")
        by_contact = ContactPoint.objects.filter(normalized__contains=term.lower()).values(
            "record_id"
        )
        qs = qs.filter(Q(name_key__contains=name_key(term)) | Q(pk__in=by_contact))
    qs = qs.prefetch_related(
        Prefetch("contacts", queryset=ContactPoint.objects.order_by("-primary", "id"))
    )
    rows, nxt = keyset(qs, field=field, desc=desc, cursor=cursor, limit=limit)
    return [{**record_summary(r), "private": r.private} for r in rows], nxt


def redact_relations(user: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop relationships whose other end is a private record ``user`` may not see."""
    hidden = hidden_ids(user, [r["from"]["id"] for r in rows] + [r["to"]["id"] for r in rows])
    return [r for r in rows if r["from"]["id"] not in hidden and r["to"]["id"] not in hidden]


def redact_interactions(user: Any, views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Remove participants and links ``user`` may not see from interaction views."""
    ids = [p["id"] for v in views for p in v["participants"]]
    ids += [link["id"] for v in views for link in v["links"]]
    ids += [v["via"]["id"] for v in views if v.get("via")]
    hidden = hidden_ids(user, ids)
    if not hidden:
        return views
    out = []
    for v in views:
        parts = [p for p in v["participants"] if p["id"] not in hidden]
        links = [link for link in v["links"] if link["id"] not in hidden]
        if not parts and not links:
            continue
        view = {**v, "participants": parts, "links": links}
        if v.get("via") and v["via"]["id"] in hidden:
            view["via"] = None
        out.append(view)
    return out


def relationships_page(
    user: Any,
    *,
    record: Record | None = None,
    type_key: str | None = None,
    as_of: dt.date | None = None,
    sort: str = "created_at",
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    """Relationships between records ``user`` may see, optionally of one record or type."""
    field, desc = parse_sort(sort, REL_SORTS)
    qs = Relationship.objects.select_related("type", "from_record", "to_record").filter(
        visible_q(user, "from_record__"),
        visible_q(user, "to_record__"),
        from_record__deleted_at__isnull=True,
        to_record__deleted_at__isnull=True,
    )
    if record is not None:
        qs = qs.filter(Q(from_record=record) | Q(to_record=record))
    if type_key:
        qs = qs.filter(type_id=type_key.strip().lower())
    if as_of is not None:
        qs = qs.filter(active_on(as_of))
    rows, nxt = keyset(qs, field=field, desc=desc, cursor=cursor, limit=limit)
    return [relationship_view(r, record) for r in rows], nxt


def interactions_page(
    user: Any,
    *,
    record: Record | None = None,
    kind: str | None = None,
    since: str | None = None,
    until: str | None = None,
    sort: str = "-at",
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    """Interactions, newest first by default, filtered by participant, kind and time."""
    field, desc = parse_sort(sort, INTERACTION_SORTS)
    qs = Interaction.objects.all()
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
    qs = qs.prefetch_related(
        Prefetch("participants", queryset=Participant.objects.select_related("record")),
        Prefetch("links", queryset=InteractionLink.objects.select_related("record")),
    )
    rows, nxt = keyset(qs, field=field, desc=desc, cursor=cursor, limit=limit)
    return redact_interactions(user, [interaction_view(i) for i in rows]), nxt


def interaction_detail(user: Any, interaction_id: str) -> dict[str, Any]:
    from kith.interactions.selectors import get_interaction

    views = redact_interactions(user, [interaction_view(get_interaction(interaction_id))])
    if not views:
        raise NotFound(f"id: no interaction {interaction_id!r}", field="id")
    return views[0]


def history_page(
    user: Any,
    *,
    entity_ids: list[str] | None = None,
    actor: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
    desc: bool = False,
) -> tuple[list[dict[str, Any]], str | None]:
    """Change history (of given entities, or everything for admins), oldest first."""
    qs = Change.objects.all()
    if entity_ids is not None:
        qs = qs.filter(entity_id__in=entity_ids)
    if actor:
        qs = qs.filter(actor=actor)
    rows, nxt = keyset(qs, field="id", desc=desc, cursor=cursor, limit=limit)
    return [change_view(c) for c in rows], nxt
