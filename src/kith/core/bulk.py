"""Raw multi-row writes: an INSERT per table through ``executemany``, and history rows.

The owning apps build on these (``records.batch``, ``relationships.services``,
``interactions.services``); importers and the bulk loader call those, never this directly.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection

from kith.core.errors import ValidationError
from kith.core.models import Change

CHANGE_COLUMNS = (
    "entity_id",
    "entity_kind",
    "action",
    "field",
    "old",
    "new",
    "actor",
    "at",
    "note",
)
# (entity_id, entity_kind, action, field, old JSON text | None, new JSON text | None,
#  actor, at (from time_adapter), note)
ChangeRow = tuple[str, str, str, str, str | None, str | None, str, Any, str]
to_json = json.JSONEncoder(default=str).encode  # json.dumps(x, default=str), built once


def insert_sql(model: Any, columns: Sequence[str]) -> str:
    """An INSERT of ``columns`` into ``model``'s table with one placeholder per column."""
    qn = connection.ops.quote_name
    cols = ", ".join(qn(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {qn(model._meta.db_table)} ({cols}) VALUES ({marks})"


def execute_many(model: Any, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) into ``model``'s table; returns the count."""
    if rows:
        with connection.cursor() as cur:
            cur.executemany(insert_sql(model, columns), rows)
    return len(rows)


def time_adapter() -> Callable[[dt.datetime], Any]:
    """How this database takes aware datetimes in raw SQL (SQLite: naive UTC text)."""
    if connection.vendor == "sqlite":
        # what Django's SQLite backend stores: naive UTC, ISO with a space
        def to_sqlite(value: dt.datetime) -> str:
            if value.tzinfo is None:
                raise ValidationError(f"at: {value!r} has no time zone", field="at")
            return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")

        return to_sqlite

    def to_aware(value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValidationError(f"at: {value!r} has no time zone", field="at")
        return value

    return to_aware


def insert_changes(rows: Sequence[ChangeRow]) -> int:
    """Append many history rows at once (see ``ChangeRow``); returns the count."""
    return execute_many(Change, CHANGE_COLUMNS, rows)
