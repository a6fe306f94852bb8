"""Cursor pagination: opaque cursors over a stable (sort key, id) order."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, Q, QuerySet

from kith.core.errors import ValidationError

M = TypeVar("M", bound=Model)
T = TypeVar("T")
MAX_LIMIT = 500


def encode(value: Any) -> str:
    raw = json.dumps(value, default=_plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeError):
        raise ValidationError(f"cursor: {cursor[:40]!r} is not a cursor", field="cursor") from None


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit: must be between 1 and {MAX_LIMIT}", field="limit")
    return limit


def parse_sort(sort: str, allowed: dict[str, str]) -> tuple[str, bool]:
    """``name`` / ``-name`` -> (model field, descending) for the names in ``allowed``."""
    text = (sort or "").strip()
    desc = text.startswith("-")
    key = text.lstrip("-+")
    if key not in allowed:
        names = ", ".join(sorted(allowed))
        raise ValidationError(
            f"sort: {sort!r} is not one of {names} (prefix - for descending)", field="sort"
        )
    return allowed[key], desc


def keyset(
    qs: QuerySet[M], *, field: str, desc: bool, cursor: str | None, limit: int
) -> tuple[list[M], str | None]:
    """One page of ``qs`` in (``field``, pk) order after ``cursor``; and the next cursor."""
    check_limit(limit)
    direction = "lt" if desc else "gt"
    if cursor:
        value = decode(cursor)
        if (  # [sort value, id]: plain values only (a forged null, list or object is no key)
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, str | int | float) for v in value)
            or any(isinstance(v, str) and "\x00" in v for v in value)  # PostgreSQL refuses NUL
        ):
            raise ValidationError("cursor: not a cursor of this list", field="cursor")
        last, pk = value
    order = [f"-{field}", "-pk"] if desc else [field, "pk"]
    try:
        if cursor:
            qs = qs.filter(
                Q(**{f"{field}__{direction}": last}) | Q(**{field: last, f"pk__{direction}": pk})
            )
        rows = list(qs.order_by(*order)[: limit + 1])
    except (DjangoValidationError, ValueError, TypeError, OverflowError):
        raise ValidationError("cursor: not a cursor of this list", field="cursor") from None
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode([getattr(rows[-1], field.replace("__", ".")), rows[-1].pk]) if more else None
    return rows, nxt


def offset_page(
    items: Sequence[T], *, cursor: str | None, limit: int
) -> tuple[list[T], str | None]:
    """A page of an in-memory list (small lists such as one record's relationships)."""
    check_limit(limit)
    start = 0
    if cursor:
        value = decode(cursor)
        if not isinstance(value, dict) or not isinstance(value.get("o"), int) or value["o"] < 0:
            raise ValidationError("cursor: not a cursor of this list", field="cursor")
        start = value["o"]
    page = list(items[start : start + limit])
    nxt = encode({"o": start + limit}) if start + limit < len(items) else None
    return page, nxt


def paged(items: list[Any], nxt: str | None, render: Callable[[Any], Any] | None = None) -> Any:
    return {"items": [render(i) for i in items] if render else items, "next_cursor": nxt}
