"""The server's PostgreSQL connections: kept, and planned as data in memory."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper

from kith.core.errors import ValidationError
from kith.server.serve import RANDOM_PAGE_COST, tune_postgresql


def _entry() -> dict[str, Any]:
    return {"ENGINE": "django.db.backends.postgresql", "NAME": "kith", "OPTIONS": {}}


def test_connections_are_kept_and_random_pages_priced_as_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KITH_PG_RANDOM_PAGE_COST", raising=False)
    db = _entry()
    tune_postgresql(db)
    assert db["CONN_MAX_AGE"] == 300 and db["CONN_HEALTH_CHECKS"] is True
    assert db["OPTIONS"]["options"] == f"-c random_page_cost={RANDOM_PAGE_COST}"
    given = {**_entry(), "OPTIONS": {"options": "-c statement_timeout=5000"}}
    tune_postgresql(given)  # options given in the URL are kept
    assert given["OPTIONS"]["options"] == "-c statement_timeout=5000 -c random_page_cost=1.1"


def test_the_setting_can_be_changed_or_left_to_the_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KITH_PG_RANDOM_PAGE_COST", "2")
    db = _entry()
    tune_postgresql(db)
    assert db["OPTIONS"]["options"] == "-c random_page_cost=2"
    monkeypatch.setenv("KITH_PG_RANDOM_PAGE_COST", "")
    db = _entry()
    tune_postgresql(db)
    assert "options" not in db["OPTIONS"]


@pytest.mark.parametrize("bad", ["fast", "0", "-1", "nan", "1e9"])
def test_a_bad_cost_is_refused_in_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv("KITH_PG_RANDOM_PAGE_COST", bad)
    with pytest.raises(ValidationError) as caught:
        tune_postgresql(_entry())
    assert str(caught.value).startswith(f"KITH_PG_RANDOM_PAGE_COST: {bad!r}")
    assert "\n" not in str(caught.value)


@pytest.mark.django_db
def test_a_server_connection_to_postgresql_plans_with_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner setting (the suite runs on PostgreSQL too)")
    monkeypatch.delenv("KITH_PG_RANDOM_PAGE_COST", raising=False)
    db = {**connection.settings_dict, "OPTIONS": dict(connection.settings_dict["OPTIONS"])}
    tune_postgresql(db)
    tuned = DatabaseWrapper(db, alias="tuned")
    try:
        with tuned.cursor() as cur:
            cur.execute("SHOW random_page_cost")
            assert cur.fetchone()[0] == RANDOM_PAGE_COST
    finally:
        tuned.close()
    with connection.cursor() as cur:  # other connections keep the database's own setting
        cur.execute("SHOW random_page_cost")
        assert cur.fetchone()[0] == "4"
