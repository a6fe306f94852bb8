"""Who may undo a merge from the review pages (moving to kith.dedupe.services)."""

from __future__ import annotations

from typing import Any

from kith.accounts.selectors import role_of


def can_undo_merge(user: Any, merge: Any) -> bool:
    """Whether ``user`` may undo ``merge``: admins any, members their own, once."""

    role = role_of(user)
    if merge.undone_at is not None or role not in ("member", "admin"):
        return False
    return bool(role == "admin" or merge.actor == user.get_username())
