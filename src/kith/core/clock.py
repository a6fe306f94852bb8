"""The one clock: every "now" and "today" in Kith is read here, so tests can travel in time.

``now()`` is an aware UTC time; ``today()`` is the UTC day (statistics and scores are kept
by UTC day); ``local_today(zone)`` is the user's day in their zone (``KITH_TZ`` or the
system's when none is given). ``travel(to)`` moves the clock for the code inside it, in
every thread, until it exits::

    with clock.travel("2026-03-01T09:00Z") as trip:
        ...                      # clock.now() is 2026-03-01 09:00 UTC
        trip.advance(days=1)     # ... and now the next day

Tests use the ``clock`` fixture (``kith.core.testing``), which undoes the trip afterwards.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kith.core.errors import ValidationError

_LOCK = threading.Lock()
_TRIPS: list[Trip] = []  # innermost last; the clock reads the innermost trip


class Trip:
    """A moment the clock is held at (or runs on from, with ``tick=True``)."""

    def __init__(self, moment: dt.datetime, *, tick: bool) -> None:
        self._moment = moment
        self._tick = tick
        self._started = dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        """Return the traveller's current time (aware UTC)."""
        if not self._tick:
            return self._moment
        return self._moment + (dt.datetime.now(dt.UTC) - self._started)

    def to(self, moment: dt.datetime | dt.date | str) -> None:
        """Move this trip to ``moment``."""
        with _LOCK:
            self._moment = as_moment(moment)
            self._started = dt.datetime.now(dt.UTC)

    def advance(
        self, delta: dt.timedelta | None = None, *, days: float = 0, seconds: float = 0
    ) -> None:
        """Move this trip forward by ``delta`` (or ``days``/``seconds``)."""
        step = (delta or dt.timedelta()) + dt.timedelta(days=days, seconds=seconds)
        with _LOCK:
            self._moment += step


def as_moment(value: dt.datetime | dt.date | str) -> dt.datetime:
    """Return ``value`` as an aware UTC time (a day is its UTC midnight; naive is UTC)."""
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        value = dt.datetime.fromisoformat(text) if "T" in text else dt.date.fromisoformat(text)
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def now() -> dt.datetime:
    """Return the current time, aware, in UTC."""
    with _LOCK:
        trip = _TRIPS[-1] if _TRIPS else None
    return trip.now() if trip is not None else dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """Return the current UTC day (the day statistics and scores are kept by)."""
    return now().date()


def local_zone() -> dt.tzinfo:
    """Return the user's zone for local days and times typed without an offset."""
    name = os.environ.get("KITH_TZ")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(f"KITH_TZ: unknown time zone {name!r}") from None
    return dt.datetime.now().astimezone().tzinfo or dt.UTC


def local_today(zone: dt.tzinfo | str | None = None) -> dt.date:
    """Return the current day in ``zone`` (a tzinfo or IANA name; default the user's zone)."""
    if isinstance(zone, str):
        try:
            zone = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(f"zone: unknown time zone {zone!r}", field="zone") from None
    return now().astimezone(zone or local_zone()).date()


@contextmanager
def travel(to: dt.datetime | dt.date | str, *, tick: bool = False) -> Iterator[Trip]:
    """Hold the clock at ``to`` (or let it run on from there, ``tick=True``) inside the block."""
    trip = Trip(as_moment(to), tick=tick)
    with _LOCK:
        _TRIPS.append(trip)
    try:
        yield trip
    finally:
        with _LOCK:
            _TRIPS.remove(trip)
