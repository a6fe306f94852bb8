"""Writes of the web app (saved list views, import jobs); one transaction each.

Two sections, each owned by one area of the web app; edit only your own.
"""

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


# -- import jobs ------------------------------------------------------------------------------
