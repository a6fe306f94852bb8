"""Reads of the history log."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from kith.core.models import Change


def changes_for(entity_ids: Iterable[str]) -> QuerySet[Change]:
    """Return the history of the given entities, oldest first."""
    return Change.objects.filter(entity_id__in=list(entity_ids)).order_by("at", "id")


def change_view(c: Change) -> dict[str, Any]:
    """The JSON form of one history entry."""
    return {
        "id": c.pk,
        "at": c.at.isoformat(),
        "actor": c.actor,
        "entity_id": c.entity_id,
        "entity_kind": c.entity_kind,
        "action": c.action,
        "field": c.field,
        "old": c.old,
        "new": c.new,
        "note": c.note,
    }
