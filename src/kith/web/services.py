"""Writes of the web app (saved list views, merges from the review page)."""

from __future__ import annotations

from typing import Any

# -- saved list views -------------------------------------------------------------------------


def save_view(*, user: Any, type_key: str, name: str, query: dict[str, list[str]]) -> Any:
    """Save (or replace) the user's list view ``name`` of ``type_key``; returns the view."""
    from django.db import transaction

    from kith.core.errors import ValidationError
    from kith.web.models import SavedView

    clean = " ".join((name or "").split())
    if not clean:
        raise ValidationError("name: give the view a name", field="name")
    if len(clean) > 80:
        raise ValidationError("name: longer than 80 characters", field="name")
    with transaction.atomic():
        view, _ = SavedView.objects.update_or_create(
            user=user, type_key=type_key, name=clean, defaults={"query": query}
        )
    return view


def delete_view(*, user: Any, view_id: int) -> str:
    """Delete one of the user's saved views (another user's is not found); returns its type."""
    from django.db import transaction

    from kith.core.errors import NotFound
    from kith.web.models import SavedView

    with transaction.atomic():
        view = SavedView.objects.filter(pk=view_id, user=user).first()
        if view is None:
            raise NotFound(f"view: no saved view {view_id}", field="view")
        view.delete()
    return view.type_key


# duplicates: merge and undo from the review pages


def merge_pair(*, user: Any, keep: str, other: str) -> dict[str, Any]:
    """Merge ``other`` into ``keep``, both of which ``user`` must be able to see."""
    from kith.accounts.selectors import viewer_of
    from kith.dedupe.services import merge_records
    from kith.records.selectors import resolve

    keep_rec = resolve(viewer_of(user), keep, field="keep", include_deleted=True)
    other_rec = resolve(viewer_of(user), other, field="other", include_deleted=True)
    return merge_records(keep=keep_rec.id, other=other_rec.id)


def undo_merge(*, user: Any, merge_id: str) -> dict[str, Any]:
    """Undo a merge: admins any, members those they made themselves."""
    from kith.core.errors import Conflict, NotFound
    from kith.dedupe.models import Merge
    from kith.dedupe.services import unmerge
    from kith.web.selectors.dedupe import can_undo_merge

    merge = Merge.objects.filter(pk=merge_id).defer("snapshot").first()
    if merge is None:
        raise NotFound(f"merge: no merge {merge_id!r}", field="merge")
    if merge.undone_at is None and not can_undo_merge(user, merge):
        raise Conflict(f"merge: {merge.id} was made by {merge.actor}; an admin can undo it")
    return unmerge(ref=merge.id)
