"""Reads of a record as it stood on a past day, from its field history (``kith.core`` Change)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kith.core.models import Change
from kith.records.models import Record
from kith.records.selectors import contacts_of


def values_as_of(record: Record, end: dt.datetime) -> dict[str, Any] | None:
    """Every user-visible value of ``record`` as it stood just before ``end``, from its field
    history (``name``, ``emails``, ``phones``, ``domains``, ``fields.NAME``, as the history
    writes them): today's values with every later change undone, newest first. None when the
    record did not exist yet."""
    if record.created_at >= end:
        return None
    contacts = contacts_of(record)
    values: dict[str, Any] = {"name": record.name}
    values.update({k: v for k, v in contacts.items() if v and k != "urls"})
    values.update({f"fields.{k}": v for k, v in record.fields.items()})
    later = (
        Change.objects.filter(entity_id=record.id, action="update", at__gte=end)
        .exclude(field="")
        .order_by("-at", "-id")
        .values_list("field", "old")
    )
    for name, old in later:
        if old is None:
            values.pop(name, None)
        else:
            values[name] = old
    return values
