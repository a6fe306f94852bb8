"""Reads of the history log."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from kith.core.models import Change


def changes_for(entity_ids: Iterable[str]) -> QuerySet[Change]:
    """Return the history of the given entities, oldest first."""
    return Change.objects.filter(entity_id__in=list(entity_ids)).order_by("at", "id")
