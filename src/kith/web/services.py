"""Writes of the web app: merges from the review page (moving to kith.dedupe.services)."""

from __future__ import annotations

from typing import Any

from kith.accounts.selectors import viewer_of
from kith.core.errors import Conflict, NotFound
from kith.dedupe.models import Merge
from kith.dedupe.services import merge_records, unmerge
from kith.records.selectors import resolve
from kith.web.selectors.dedupe import can_undo_merge

# duplicates: merge and undo from the review pages


def merge_pair(*, user: Any, keep: str, other: str) -> dict[str, Any]:
    """Merge ``other`` into ``keep``, both of which ``user`` must be able to see."""

    keep_rec = resolve(viewer_of(user), keep, field="keep", include_deleted=True)
    other_rec = resolve(viewer_of(user), other, field="other", include_deleted=True)
    return merge_records(keep=keep_rec.id, other=other_rec.id)


def undo_merge(*, user: Any, merge_id: str) -> dict[str, Any]:
    """Undo a merge: admins any, members those they made themselves."""

    merge = Merge.objects.filter(pk=merge_id).defer("snapshot").first()
    if merge is None:
        raise NotFound(f"merge: no merge {merge_id!r}", field="merge")
    if merge.undone_at is None and not can_undo_merge(user, merge):
        raise Conflict(f"merge: {merge.id} was made by {merge.actor}; an admin can undo it")
    return unmerge(ref=merge.id)
