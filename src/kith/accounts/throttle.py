"""Fixed-window counters in the database: every server process sees the same counts."""

from __future__ import annotations

import datetime as dt
import random
from contextlib import nullcontext

from django.db import connection, transaction
from django.utils import timezone

from kith.accounts.models import RateCounter


def _window(seconds: int, now: dt.datetime) -> tuple[int, dt.datetime]:
    epoch = int(now.timestamp()) // seconds
    return epoch, dt.datetime.fromtimestamp(epoch * seconds, tz=dt.UTC)


def hit(key: str, *, limit: int, seconds: int, now: dt.datetime | None = None) -> bool:
    """Count one event for ``key``; ``False`` when it is over ``limit`` in this window.

    One statement (an upsert returning the new count) on SQLite and PostgreSQL alike.
    """
    moment = now or timezone.now()
    epoch, start = _window(seconds, moment)
    row_key = f"{key}@{seconds}:{epoch}"[:200]
    table = connection.ops.quote_name(RateCounter._meta.db_table)
    # Every API request counts, reads included: on PostgreSQL its own commit need not wait
    # for the WAL flush (a count lost in a crash is harmless; ~2 ms less per request, more
    # under load). Only when the counter is its own transaction, never inside a caller's.
    asynchronous = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic() if asynchronous else nullcontext(), connection.cursor() as cur:
        if asynchronous:
            cur.execute("SET LOCAL synchronous_commit TO OFF")
        cur.execute(
            f"INSERT INTO {table} (key, count, window_start) VALUES (%s, 1, %s) "
            f"ON CONFLICT (key) DO UPDATE SET count = {table}.count + 1 RETURNING count",
            [row_key, connection.ops.adapt_datetimefield_value(start)],
        )
        row = cur.fetchone()
    if random.random() < 0.001:
        RateCounter.objects.filter(window_start__lt=moment - dt.timedelta(days=1)).delete()
    return int(row[0] if row else 0) <= limit


def count(key: str, *, seconds: int, now: dt.datetime | None = None) -> int:
    """Events counted for ``key`` in the current window."""
    epoch, _ = _window(seconds, now or timezone.now())
    row_key = f"{key}@{seconds}:{epoch}"[:200]
    return RateCounter.objects.filter(pk=row_key).values_list("count", flat=True).first() or 0
