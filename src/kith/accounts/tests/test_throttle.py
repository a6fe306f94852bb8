"""The database rate counter: one upsert per event, shared by every server process."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from kith.accounts.models import RateCounter
from kith.accounts.throttle import count, hit


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
