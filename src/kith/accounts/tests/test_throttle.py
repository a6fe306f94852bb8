"""The database rate counter: one upsert per event, shared by every server process."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client

from kith.accounts import throttle
from kith.accounts.models import RateCounter
from kith.accounts.services import add_user, create_token
from kith.accounts.throttle import count, hit, hit_batched


def _synchronous_commit() -> str:
    with connection.cursor() as cur:
        cur.execute("SHOW synchronous_commit")
        return str(cur.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_counts_persist_and_stop_at_the_limit() -> None:
    assert [hit("probe", limit=2, seconds=60) for _ in range(3)] == [True, True, False]
    assert count("probe", seconds=60) == 3
    assert RateCounter.objects.get().count == 3  # committed: a new query sees it


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_only_the_counters_own_commit_skips_the_wal_wait() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    connection.ensure_connection()
    assert _synchronous_commit() == "on"
    hit("probe", limit=10, seconds=60)
    assert _synchronous_commit() == "on"  # SET LOCAL ended with the counter's transaction
    with transaction.atomic():
        hit("probe", limit=10, seconds=60)
        assert _synchronous_commit() == "on"  # a caller's transaction keeps its durability
    assert count("probe", seconds=60) == 2


@pytest.mark.django_db(transaction=True)
def test_batched_counts_every_hit_for_small_limits() -> None:
    assert [hit_batched("small", limit=3, seconds=60) for _ in range(5)] == [True] * 3 + [False] * 2
    assert count("small", seconds=60) == 5


@pytest.mark.django_db(transaction=True)
def test_batched_writes_in_batches_and_stops_exactly_at_the_limit() -> None:
    answers = [hit_batched("batched", limit=1000, seconds=60) for _ in range(25)]
    assert answers == [True] * 25
    # the first hit is written, then every 10th (limit // 100): the row lags by < a batch
    assert 16 <= count("batched", seconds=60) <= 25
    answers = [hit_batched("batched", limit=1000, seconds=60) for _ in range(980)]
    assert answers == [True] * 975 + [False] * 5  # near the limit every hit is written
    assert count("batched", seconds=60) == 1005


@pytest.mark.django_db(transaction=True)
def test_batched_sees_other_processes_hits() -> None:
    assert throttle.hit_batched("shared", limit=1000, seconds=60)
    for _ in range(995):  # another process, counting every hit
        throttle.hit("shared", limit=1000, seconds=60)
    answers = [throttle.hit_batched("shared", limit=1000, seconds=60) for _ in range(15)]
    # this process writes its 10th hit, learns the shared count, then counts every hit
    assert answers[:4] == [True] * 4 and answers[-1] is False
    assert answers.count(True) <= 4 + throttle.BATCH_SHARE // 10


@pytest.mark.django_db(transaction=True)
def test_batched_writes_at_least_once_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(throttle, "_clock", lambda: clock[0])
    throttle.hit_batched("idle", limit=100_000, seconds=60)
    throttle.hit_batched("idle", limit=100_000, seconds=60)
    assert count("idle", seconds=60) == 1
    clock[0] += throttle.FLUSH_SECONDS
    throttle.hit_batched("idle", limit=100_000, seconds=60)
    assert count("idle", seconds=60) == 3


@pytest.mark.django_db(transaction=True)
def test_api_reads_do_not_wait_for_a_writer_holding_sqlites_lock(
    monkeypatch: pytest.MonkeyPatch, time_travel: Any
) -> None:
    """A CLI import holds SQLite's write lock for minutes: API reads (which count a rate
    hit and note the token's use) answer at once from the process's own count, and the
    hits are written once the lock is free."""
    # one rate window for every hit: hits not yet written when their window ends are
    # dropped with it (by design), which made the count 3 when a minute ended mid-test
    time_travel.to("2026-03-02T09:00:05Z")
    monkeypatch.setenv("KITH_RATE_LIMIT", "1200")
    user, _ = add_user(email="reader@our.test", role="viewer", password="correct horse battery")
    token = create_token(email=user.username, name="t")[1]
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:  # a long transaction, as an import is
        try:
            with transaction.atomic():
                RateCounter.objects.create(key="writer", count=1, window_start=throttle.clock.now())
                holding.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(10)
        started = time.monotonic()
        codes = [
            Client().get("/api/v1/records", HTTP_AUTHORIZATION=f"Bearer {token}").status_code
            for _ in range(3)
        ]
        took = time.monotonic() - started
    finally:
        release.set()
        thread.join()
    assert codes == [200, 200, 200]
    if connection.vendor == "sqlite":
        assert took < 20  # each waited at most ~0.25 s for the lock, not the 30 s timeout (90 s)
    later = time.monotonic() + throttle.FLUSH_SECONDS + 1
    monkeypatch.setattr(throttle, "_clock", lambda: later)  # the next write is due
    Client().get("/api/v1/records", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert sum(c.count for c in RateCounter.objects.filter(key__startswith="api:")) == 4
