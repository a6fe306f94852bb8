"""Who may undo a merge from the review pages: the role, then the dedupe policy."""

from __future__ import annotations

from typing import Any

from kith.accounts.selectors import role_of, viewer_of
from kith.dedupe.services import can_undo_merge as undo_allowed


def can_undo_merge(user: Any, merge: Any) -> bool:
    """Whether ``user`` may undo ``merge``: a member or above, by the dedupe policy."""
    if role_of(user) not in ("member", "admin"):
        return False
    return undo_allowed(viewer_of(user), merge, actor=user.get_username())
