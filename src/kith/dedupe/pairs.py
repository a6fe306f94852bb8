"""Reads of the duplicates review: likely pairs, both sides of a pair, recent merges.

Each takes the acting ``Viewer``: a private record it may not see is not found, and
pairs and merges are found among the records it may see (in the query).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from kith.core import clock
from kith.core.errors import NotFound
from kith.core.viewer import Viewer
from kith.dedupe.models import Merge
from kith.dedupe.selectors import find_duplicates, merge_view
from kith.interactions.models import Interaction, InteractionLink, Participant
from kith.records.models import ContactPoint, Record
from kith.records.selectors import (
    can_see,
    contacts_of,
    hidden_records,
    resolve,
    visible_q,
)
from kith.relationships.models import Relationship
from kith.relationships.selectors import active_on

MERGES_SHOWN = 20
PAIRS_SHOWN = 50


def duplicate_pairs(
    viewer: Viewer,
    *,
    type_key: str | None = None,
    min_score: int = 50,
    limit: int = PAIRS_SHOWN,
    after: str | None = None,
) -> dict[str, Any]:
    """A page of likely duplicate pairs among the records the viewer may see, best first
    (the kept pairs, ``find_duplicates``; ``next`` is the cursor of the following page)."""
    return find_duplicates(viewer, type_key=type_key, min_score=min_score, limit=limit, after=after)


def _visible(viewer: Viewer, ref: str, field: str) -> Record:
    """The record ``ref`` names, deleted ones too, if the viewer may see it."""
    return resolve(viewer, ref, include_deleted=True, field=field)


def record_side(viewer: Viewer, record: Record) -> dict[str, Any]:
    """One side of a pair: fields, contacts, the organisations it works at, its counts."""
    orgs = list(
        Relationship.objects.filter(
            active_on(clock.today()),
            visible_q(viewer, "to_record__"),
            from_record=record,
            type__rollup=True,
            to_record__deleted_at__isnull=True,
        )
        .order_by("to_record__name_key", "id")
        .values("to_record_id", "to_record__name", "role")
    )
    touching = Q(from_record=record) | Q(to_record=record)
    part = Participant.objects.filter(record=record).values("interaction_id")
    link = InteractionLink.objects.filter(record=record).values("interaction_id")
    return {
        "id": record.id,
        "name": record.name,
        "type": record.type_id,
        "fields": dict(record.fields),
        **contacts_of(record),
        "orgs": [
            {"id": o["to_record_id"], "name": o["to_record__name"], "role": o["role"]} for o in orgs
        ],
        "relationships": Relationship.objects.filter(touching).count(),
        "interactions": Interaction.objects.filter(Q(pk__in=part) | Q(pk__in=link)).count(),
        "created_at": record.created_at,
        "deleted": record.deleted_at is not None,
        "merged_into": record.merged_into,
    }


def pair_sides(viewer: Viewer, keep_ref: str, other_ref: str) -> dict[str, Any]:
    """Two records side by side: every field and contact, ties and counts, what differs.

    ``problem`` says why they cannot be merged (one already merged or deleted, the same
    record, different types); a private record the viewer may not see is not found.
    """
    keep = _visible(viewer, (keep_ref or "")[:320], "keep")
    other = _visible(viewer, (other_ref or "")[:320], "other")
    loaded = {
        r.id: r
        for r in Record.objects.filter(pk__in=[keep.id, other.id]).prefetch_related(
            Prefetch("contacts", queryset=ContactPoint.objects.order_by("-primary", "id"))
        )
    }
    sides = [record_side(viewer, loaded[keep.id]), record_side(viewer, loaded[other.id])]
    problem, merged = "", None
    for side in sides:
        if side["merged_into"]:
            problem = f"{side['name']} ({side['id']}) was already merged into another record."
            target = Record.objects.filter(pk=side["merged_into"]).first()
            if target is not None and can_see(viewer, target):
                merged = {"id": target.id, "name": target.name}
            break
        if side["deleted"]:
            problem = f"{side['name']} ({side['id']}) is deleted; restore it to merge it."
            break
    if not problem and keep.id == other.id:
        problem = "These are the same record."
    elif not problem and keep.type_id != other.type_id:
        problem = f"{keep.name} is a {keep.type_id} and {other.name} a {other.type_id}; only "
        problem += "records of one type merge."
    a, b = sides
    fields = sorted(set(a["fields"]) | set(b["fields"]))
    rows = [
        {
            "label": name.replace("_", " ").capitalize(),
            "keep": a["fields"].get(name),
            "other": b["fields"].get(name),
            "added": name not in a["fields"],  # the merge fills it from the other
        }
        for name in fields
    ]
    for row in rows:
        row["differs"] = row["keep"] != row["other"]
    return {"keep": a, "other": b, "rows": rows, "problem": problem, "merged": merged}


MayUndo = Callable[[Merge], bool]


def _visible_merges(viewer: Viewer) -> QuerySet[Merge]:
    """Merges of two records the viewer may see (filtered in the query)."""
    qs = Merge.objects.defer("snapshot")
    if not viewer.sees_everything:
        hidden = hidden_records(viewer).values("id")
        qs = qs.exclude(keep_id__in=hidden).exclude(other_id__in=hidden)
    return qs


def recent_merges(
    viewer: Viewer, *, may_undo: MayUndo, limit: int = MERGES_SHOWN
) -> list[dict[str, Any]]:
    """The newest merges of records the viewer may both see; ``can_undo`` from ``may_undo``."""
    merges = _visible_merges(viewer).order_by("-at", "-id")[:limit]
    return [{**merge_view(m), "can_undo": may_undo(m)} for m in merges]


def merge_detail(viewer: Viewer, merge_id: str, *, may_undo: MayUndo) -> dict[str, Any]:
    """One merge: what moved, what was filled in, what differed; may the viewer undo it."""
    merge = _visible_merges(viewer).filter(pk=(merge_id or "")[:40]).first()
    if merge is None:
        raise NotFound(f"merge: no merge {merge_id[:40]!r}", field="merge")
    return {**merge_view(merge), "can_undo": may_undo(merge)}
