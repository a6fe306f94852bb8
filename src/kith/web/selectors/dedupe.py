"""Reads of the duplicates review: likely pairs, both sides of a pair, merges."""

from __future__ import annotations

from typing import Any

from kith.core import clock
from kith.intelligence.attention import memo


def duplicate_pairs(
    user: Any, *, type_key: str | None = None, min_score: int = 50, limit: int = 100
) -> dict[str, Any]:
    """Likely duplicate pairs ``user`` may see, best first, with score and reasons.

    The search scores every candidate pair of the workspace, so its answer is kept while
    the records and relationships it reads are unchanged (``memo``) for everyone who is
    hidden nothing; a user with hidden records gets pairs found among what they see.
    """
    from kith.accounts.selectors import viewer_of
    from kith.dedupe.selectors import find_duplicates
    from kith.records.selectors import effective_viewer

    viewer = effective_viewer(viewer_of(user))
    if not viewer.sees_everything:  # built from what they see: not shared, not kept
        return find_duplicates(viewer, type_key=type_key, min_score=min_score, limit=limit)
    found: dict[str, Any] = memo(
        f"duplicates:{type_key or ''}:{min_score}:{limit}",
        lambda: find_duplicates(viewer, type_key=type_key, min_score=min_score, limit=limit),
    )
    return dict(found)


def _record_side(user: Any, record: Any) -> dict[str, Any]:

    from django.db.models import Q

    from kith.accounts.selectors import viewer_of
    from kith.interactions.models import Interaction, InteractionLink, Participant
    from kith.records.selectors import contacts_of, visible_q
    from kith.relationships.models import Relationship
    from kith.relationships.selectors import active_on

    orgs = list(
        Relationship.objects.filter(
            active_on(clock.today()),
            visible_q(viewer_of(user), "to_record__"),
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


def pair_sides(user: Any, keep_ref: str, other_ref: str) -> dict[str, Any]:
    """Two records side by side: every field and contact, ties and counts, what differs.

    ``problem`` says why they cannot be merged (one already merged or deleted, the same
    record, different types); a private record ``user`` may not see is not found.
    """
    from django.db.models import Prefetch

    from kith.accounts.selectors import viewer_of
    from kith.records.models import ContactPoint, Record
    from kith.records.selectors import resolve

    refs = [(keep_ref or "")[:320], (other_ref or "")[:320]]
    keep = resolve(viewer_of(user), refs[0], field="keep", include_deleted=True)
    other = resolve(viewer_of(user), refs[1], field="other", include_deleted=True)
    loaded = {
        r.id: r
        for r in Record.objects.filter(pk__in=[keep.id, other.id]).prefetch_related(
            Prefetch("contacts", queryset=ContactPoint.objects.order_by("-primary", "id"))
        )
    }
    sides = [_record_side(user, loaded[keep.id]), _record_side(user, loaded[other.id])]
    problem, merged = "", None
    for side in sides:
        if side["merged_into"]:
            problem = f"{side['name']} ({side['id']}) was already merged into another record."
            target = Record.objects.filter(pk=side["merged_into"]).first()
            if target is not None and not user_cannot_see(user, target):
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


def user_cannot_see(user: Any, record: Any) -> bool:
    from kith.accounts.selectors import viewer_of
    from kith.records.selectors import can_see

    return not can_see(viewer_of(user), record)


def can_undo_merge(user: Any, merge: Any) -> bool:
    """Whether ``user`` may undo ``merge``: admins any, members their own, once."""
    from kith.accounts.selectors import role_of

    role = role_of(user)
    if merge.undone_at is not None or role not in ("member", "admin"):
        return False
    return bool(role == "admin" or merge.actor == user.get_username())


def _merge_rows(user: Any, merges: list[Any]) -> list[dict[str, Any]]:
    from kith.accounts.selectors import viewer_of
    from kith.dedupe.selectors import merge_view
    from kith.records.selectors import hidden_ids

    hidden = hidden_ids(viewer_of(user), [i for m in merges for i in (m.keep_id, m.other_id)])
    return [
        {**merge_view(m), "can_undo": can_undo_merge(user, m)}
        for m in merges
        if m.keep_id not in hidden and m.other_id not in hidden
    ]


def recent_merges(user: Any, *, limit: int = 20) -> list[dict[str, Any]]:
    """The newest merges ``user`` may see (both records visible), with undo where allowed."""
    from kith.dedupe.models import Merge

    return _merge_rows(user, list(Merge.objects.defer("snapshot").order_by("-at", "-id")[:limit]))


def merge_detail(user: Any, merge_id: str) -> dict[str, Any]:
    """One merge: what moved, what was filled in, what differed; may ``user`` undo it."""
    from kith.core.errors import NotFound
    from kith.dedupe.models import Merge

    merge = Merge.objects.defer("snapshot").filter(pk=(merge_id or "")[:40]).first()
    rows = _merge_rows(user, [merge]) if merge is not None else []
    if not rows:
        raise NotFound(f"merge: no merge {merge_id[:40]!r}", field="merge")
    return rows[0]
