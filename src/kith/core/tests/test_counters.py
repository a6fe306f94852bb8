"""The atomic counters: one UPDATE per bump, once per transaction, two writers move by two."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from kith.core import counters
from kith.core.models import Counter
from kith.intelligence.services import bump_version, data_version


def test_a_bump_is_one_update_and_reads_are_selects() -> None:
    counters.bump("t")  # the first bump makes the row (the test runs in one transaction)
    with CaptureQueriesContext(connection) as ctx:
        counters.bump("t")  # the same transaction, not read since: skipped
    assert counters.value("t") == 1
    assert len(ctx.captured_queries) == 0
    with CaptureQueriesContext(connection) as ctx:
        counters.bump("t")  # read since: moves again, with one statement
        assert counters.value("t") == 2
    sql = [q["sql"].upper() for q in ctx.captured_queries]
    assert len(sql) == 2 and sql[0].startswith("UPDATE") and "N + 1" in sql[0].replace('"', "")
    assert sql[1].startswith("SELECT")


def test_a_transaction_moves_a_counter_once_unless_read_in_between() -> None:
    start = counters.value("v")
    with transaction.atomic():
        for _ in range(5):
            counters.bump("v")
    assert counters.value("v") == start + 1
    counters.bump("v")
    counters.bump("v")
    assert counters.value("v") == start + 2
    assert counters.value("never") == 0


def test_a_bump_in_a_rolled_back_savepoint_is_made_again() -> None:
    start = counters.value("s")
    try:
        with transaction.atomic():
            counters.bump("s")
            raise RuntimeError("undo")
    except RuntimeError:
        pass
    assert counters.value("s") == start
    with transaction.atomic():
        counters.bump("s")
    assert counters.value("s") == start + 1


@pytest.mark.django_db(transaction=True)
def test_committed_transactions_each_move_the_counter() -> None:
    for _ in range(3):
        with transaction.atomic():
            counters.bump("c")
            counters.bump("c")
    counters.bump("c")  # autocommit: every bump counts
    assert counters.value("c") == 4


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_writers_move_the_counter_by_two() -> None:
    """Each writer logs in its own connection and commits; neither increment is lost (on
    SQLite the second writer waits for the first's lock on the test database's file)."""
    rounds, errors = 10, []
    start = int(data_version())
    for _ in range(rounds):
        ready = threading.Barrier(2)

        def writer(ready: threading.Barrier = ready) -> None:
            try:
                ready.wait(timeout=10)
                with transaction.atomic():
                    bump_version()
                    bump_version()  # the same transaction: counted once
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=writer) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    assert not errors
    assert int(data_version()) == start + 2 * rounds
    assert Counter.objects.get(name="data_version").n == start + 2 * rounds
