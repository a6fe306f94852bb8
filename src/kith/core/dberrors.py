"""What a database error means for the person who met it: unreachable, or busy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import OperationalError, connection

_UNREACHABLE = (
    "connection failed",
    "could not connect",
    "connection to server",
    "server closed the connection",
    "terminating connection",
    "connection refused",
    "connection is closed",
    "the connection is lost",
    "no route to host",
    "unable to open database file",
    "name or service not known",
)


def unreachable(exc: BaseException) -> bool:
    """True when ``exc`` says the database cannot be reached (not that it is busy)."""
    text = str(exc).lower()
    return isinstance(exc, OperationalError) and any(s in text for s in _UNREACHABLE)


def message(exc: BaseException) -> str:
    """One line for the user: the database is unreachable, or busy with other writes."""
    if unreachable(exc):
        return "the database cannot be reached; try again shortly (nothing was saved)"
    return "the database is busy; retry"


def locked(exc: BaseException) -> bool:
    """True when ``exc`` is SQLite's "database is locked": another writer holds the lock."""
    return isinstance(exc, OperationalError) and "locked" in str(exc).lower()


@contextmanager
def short_wait(ms: int = 250) -> Iterator[None]:
    """Make a bookkeeping write (a rate count, a token's last use) wait at most ``ms`` for
    SQLite's write lock instead of the connection's 30 s: a long import holds that lock,
    and the reads it serves need no write. Raises ``OperationalError`` if still locked; the
    caller keeps the count in memory for later. No effect inside a transaction (its lock
    is already taken) or on PostgreSQL, whose row locks do not queue behind other tables."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    timeout = int(float(connection.settings_dict.get("OPTIONS", {}).get("timeout", 5)) * 1000)
    with connection.cursor() as cur:
        cur.execute(f"PRAGMA busy_timeout = {int(ms)}")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute(f"PRAGMA busy_timeout = {timeout}")
