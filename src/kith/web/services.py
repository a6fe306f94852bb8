"""Merges from the review pages: the dedupe policy for the signed-in user."""

from __future__ import annotations

from typing import Any

from kith.accounts.selectors import viewer_of
from kith.dedupe.services import merge_records, unmerge


def merge_pair(*, user: Any, keep: str, other: str) -> dict[str, Any]:
    """Merge ``other`` into ``keep``, both of which ``user`` must be able to see."""
    return merge_records(keep=keep, other=other, viewer=viewer_of(user))


def undo_merge(*, user: Any, merge_id: str) -> dict[str, Any]:
    """Undo a merge by the dedupe policy (admins any, members their own)."""
    return unmerge(ref=merge_id, viewer=viewer_of(user))
