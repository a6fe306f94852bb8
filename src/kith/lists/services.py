"""Writes of record lists: save and delete a user's named views."""

from __future__ import annotations

from django.db import transaction

from kith.core.errors import NotFound, ValidationError
from kith.core.viewer import Viewer
from kith.lists.models import SavedView

NAME_MAX = 80


@transaction.atomic
def save_view(
    *, viewer: Viewer, type_key: str, name: str, query: dict[str, list[str]]
) -> SavedView:
    """Save (or replace) the viewer's list view ``name`` of ``type_key``; returns the view."""
    if viewer.user_id is None:
        raise ValidationError("user: a saved view belongs to a signed-in user", field="user")
    clean = " ".join((name or "").split())
    if not clean:
        raise ValidationError("name: give the view a name", field="name")
    if len(clean) > NAME_MAX:
        raise ValidationError(f"name: longer than {NAME_MAX} characters", field="name")
    view, _ = SavedView.objects.update_or_create(
        user_id=viewer.user_id, type_key=type_key, name=clean, defaults={"query": query}
    )
    return view


@transaction.atomic
def delete_view(*, viewer: Viewer, view_id: int) -> str:
    """Delete one of the viewer's saved views (another user's is not found, except by an
    admin); returns its type."""
    views = SavedView.objects.filter(pk=view_id)
    if not viewer.sees_everything:
        views = views.filter(user_id=viewer.user_id) if viewer.user_id is not None else views.none()
    view = views.first()
    if view is None:
        raise NotFound(f"view: no saved view {view_id}", field="view")
    view.delete()
    return view.type_key
