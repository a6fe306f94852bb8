"""Parsing of user-typed values: dates, times, ``k=v`` pairs. Errors name the field."""

from __future__ import annotations

import datetime as dt

from kith.core import clock
from kith.core.clock import local_zone
from kith.core.errors import ValidationError

__all__ = ["local_zone", "parse_date", "parse_datetime", "parse_pairs"]


def parse_date(value: str | dt.date | None, *, field: str) -> dt.date | None:
    """Parse ``YYYY-MM-DD`` (or ``today``); ``None``/empty stays ``None``."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = value.strip()
    if text.lower() == "today":
        return clock.local_today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"{field}: {value!r} is not a valid date (expected YYYY-MM-DD)", field=field
        ) from None


def parse_datetime(value: str | dt.datetime | None, *, field: str) -> dt.datetime | None:
    """Parse an ISO 8601 time; without an offset it is local time. Returns aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = value.strip()
        if text.lower() == "now":
            return clock.now()
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(
                f"{field}: {value!r} is not a valid time (expected ISO 8601, "
                "e.g. 2026-03-01T14:30 or 2026-03-01T14:30+01:00)",
                field=field,
            ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local_zone())
    return moment.astimezone(dt.UTC)


def parse_pairs(items: list[str] | None, *, option: str) -> dict[str, str]:
    """Parse ``["k=v", ...]`` into a dict; a malformed item is an error naming it."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, val = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValidationError(f"{option}: {item!r} is not of the form name=value", field=option)
        out[key] = val.strip()
    return out
