"""Fixed-window counters in the database: every server process sees the same counts."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F

from kith.accounts.models import RateCounter
from kith.core import clock
from kith.core.dberrors import locked, short_wait


def _window(seconds: int, now: dt.datetime) -> tuple[int, dt.datetime]:
    epoch = int(now.timestamp()) // seconds
    return epoch, dt.datetime.fromtimestamp(epoch * seconds, tz=dt.UTC)


def hit(key: str, *, limit: int, seconds: int, now: dt.datetime | None = None) -> bool:
    """Count one event for ``key``; ``False`` when it is over ``limit`` in this window.

    One statement (an upsert returning the new count) on SQLite and PostgreSQL alike.
    """
    moment = now or clock.now()
    epoch, start = _window(seconds, moment)
    return _add(f"{key}@{seconds}:{epoch}"[:200], start, 1, moment) <= limit


def reserve(key: str, *, limit: int, seconds: int, now: dt.datetime | None = None) -> bool:
    """Take one of ``limit`` attempts for ``key`` in this window before making it.

    The count is raised first and read in the same statement, so concurrent attempts can
    never all see room under the limit (check-then-increment lets a burst through).
    """
    return hit(key, limit=limit, seconds=seconds, now=now)


def release(
    key: str, *, seconds: int, everything: bool = False, now: dt.datetime | None = None
) -> None:
    """Give back an attempt taken with :func:`reserve` (it succeeded, so it is no failure);
    ``everything`` clears the window's count (a success forgives the earlier failures)."""
    epoch, _ = _window(seconds, now or clock.now())
    row_key = f"{key}@{seconds}:{epoch}"[:200]
    # an UPDATE, not the upsert: a count of -1 is never inserted, even for a moment
    rows = RateCounter.objects.filter(pk=row_key, count__gt=0)
    rows.update(count=0 if everything else F("count") - 1)


def _add(row_key: str, start: dt.datetime, amount: int, moment: dt.datetime) -> int:
    """Add ``amount`` to the counter row ``row_key``; its new count."""
    table = connection.ops.quote_name(RateCounter._meta.db_table)
    # Every API request counts, reads included: on PostgreSQL its own commit need not wait
    # for the WAL flush (a count lost in a crash is harmless; ~2 ms less per request, more
    # under load). Only when the counter is its own transaction, never inside a caller's.
    asynchronous = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic() if asynchronous else nullcontext(), connection.cursor() as cur:
        if asynchronous:
            cur.execute("SET LOCAL synchronous_commit TO OFF")
        cur.execute(
            f"INSERT INTO {table} (key, count, window_start) VALUES (%s, %s, %s) "
            f"ON CONFLICT (key) DO UPDATE SET count = {table}.count + %s RETURNING count",
            [row_key, amount, connection.ops.adapt_datetimefield_value(start), amount],
        )
        row = cur.fetchone()
    if random.random() < 0.001:
        RateCounter.objects.filter(window_start__lt=moment - dt.timedelta(days=1)).delete()
    return int(row[0] if row else 0)


# -- batched counting for the API's per-request limit -------------------------------------

BATCH_SHARE = 100  # a process writes at least every limit / BATCH_SHARE of its own hits
FLUSH_SECONDS = 1.0  # ... and at least once a second, so other processes see its counts


@dataclass
class _Tally:
    known: int  # the shared count at this process's last write (its own hits included)
    pending: int  # this process's hits since, not yet written
    written: float  # time.monotonic() of the last write
    ends: dt.datetime  # end of the window: the tally is dropped after it


_TALLIES: dict[str, _Tally] = {}
_LOCK = threading.Lock()
_clock = time.monotonic  # a test may move it


def hit_batched(key: str, *, limit: int, seconds: int, now: dt.datetime | None = None) -> bool:
    """Like :func:`hit`, but far from the limit a process writes its count in batches.

    The API counts every request; one write each costs more CPU than a small read. Each
    process adds its hits to the shared row at least every ``limit // BATCH_SHARE`` hits
    and every ``FLUSH_SECONDS``, and on every hit once the count it knows is within a batch
    of the limit: past the limit it answers ``False`` like :func:`hit`, at most
    ``limit // BATCH_SHARE - 1`` hits per other process late (none for limits below
    ``BATCH_SHARE * 2``, which count every hit). Hits not yet written when a process exits
    are lost, as a count in a crash is (harmless).
    """
    moment = now or clock.now()
    epoch, start = _window(seconds, moment)
    row_key = f"{key}@{seconds}:{epoch}"[:200]
    batch = max(1, limit // BATCH_SHARE)
    mono = _clock()
    with _LOCK:
        tally = _TALLIES.get(row_key)
        if tally is None:
            amount = 1
        else:
            tally.pending += 1
            if (
                tally.pending < batch
                and tally.known + tally.pending + batch <= limit
                and mono - tally.written < FLUSH_SECONDS
            ):
                return True
            amount, tally.pending = tally.pending, 0
    try:
        with short_wait():
            total = _add(row_key, start, amount, moment)
    except Exception as exc:
        with _LOCK:  # not written: keep the hits for the next write
            tally = _TALLIES.get(row_key)
            if tally is None and locked(exc):
                ends = start + dt.timedelta(seconds=seconds)
                tally = _TALLIES[row_key] = _Tally(known=0, pending=0, written=mono, ends=ends)
            if tally is not None:
                tally.pending += amount
                tally.written = mono  # try again in a second, not on every request
        if not locked(exc):
            raise
        # A writer (an import) holds SQLite's lock: answer from this process's own count
        # rather than make the request wait for it; the hits are written once it is free.
        return tally is not None and tally.known + tally.pending <= limit
    with _LOCK:
        tally = _TALLIES.get(row_key)
        if tally is None:
            if len(_TALLIES) >= 1000:
                for stale in [k for k, t in _TALLIES.items() if t.ends <= moment]:
                    del _TALLIES[stale]
            ends = start + dt.timedelta(seconds=seconds)
            _TALLIES[row_key] = _Tally(known=total, pending=0, written=mono, ends=ends)
        else:
            tally.known = max(tally.known, total)
            tally.written = mono
    return total <= limit


def count(key: str, *, seconds: int, now: dt.datetime | None = None) -> int:
    """Events counted for ``key`` in the current window."""
    epoch, _ = _window(seconds, now or clock.now())
    row_key = f"{key}@{seconds}:{epoch}"[:200]
    return RateCounter.objects.filter(pk=row_key).values_list("count", flat=True).first() or 0
