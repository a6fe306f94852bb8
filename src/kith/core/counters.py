"""Named counters that caches key on (the data versions): atomic, and moved once per change.

``bump(key)`` is one ``UPDATE ... SET n = n + 1``: the database adds, so two writers that
commit always move a counter by two, on SQLite and PostgreSQL alike. Inside a transaction
it moves a counter once, however many rows the transaction writes: every later bump is
skipped, until the counter is read again inside that transaction (what the reader saw
may be cached, so the next change must move it on) or the transaction ends. A bump in a
savepoint that rolls back counts as never made.

``value(key)`` only reads. A counter never bumped reads 0.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, connections, router, transaction

from kith.core.models import Counter

# Per connection: key -> (index in run_on_commit, marker) of the bump made in its current
# transaction. Django drops a savepoint's on-commit callbacks when the savepoint rolls back
# and all of them when the transaction ends, so the marker is still at its index exactly
# while that bump stands (callbacks before it are never removed while it stays).
_BUMPED: weakref.WeakKeyDictionary[Any, dict[str, tuple[int, Callable[[], None]]]] = (
    weakref.WeakKeyDictionary()
)


def _connection() -> Any:
    return connections[router.db_for_write(Counter)]


def _standing(conn: Any, key: str) -> bool:
    mark = _BUMPED.get(conn, {}).get(key)
    if mark is None:
        return False
    index, marker = mark
    pending = conn.run_on_commit
    return index < len(pending) and pending[index][1] is marker


def _increment(conn: Any, key: str) -> None:
    with conn.cursor() as cur:
        table = conn.ops.quote_name(Counter._meta.db_table)
        cur.execute(f"UPDATE {table} SET n = n + 1 WHERE name = %s", [key])
        if cur.rowcount:
            return
    try:  # the first bump of a new counter: make its row, then add as usual
        with transaction.atomic(using=conn.alias):
            Counter.objects.using(conn.alias).get_or_create(name=key)
    except IntegrityError:  # made by a concurrent first bump meanwhile
        pass
    _increment(conn, key)


def bump(key: str) -> None:
    """Move counter ``key`` on by one (once per transaction, see the module docstring)."""
    conn = _connection()
    if not conn.in_atomic_block:
        _increment(conn, key)
        return
    if _standing(conn, key):
        return
    _increment(conn, key)

    def marker() -> None:  # identifies this bump among the transaction's callbacks
        return None

    transaction.on_commit(marker, using=conn.alias)
    _BUMPED.setdefault(conn, {})[key] = (len(conn.run_on_commit) - 1, marker)


def value(key: str) -> int:
    """Return the current value of counter ``key`` (0 if never bumped)."""
    conn = _connection()
    if conn.in_atomic_block:
        _BUMPED.get(conn, {}).pop(key, None)  # seen: the next change moves it again
    found = Counter.objects.using(conn.alias).filter(name=key).values_list("n", flat=True).first()
    return int(found or 0)
