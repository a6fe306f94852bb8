"""The one clock: aware UTC now, the UTC day, the user's local day, and travel in time."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from kith.core import clock
from kith.core.clock import Trip
from kith.core.errors import ValidationError
from kith.core.parse import parse_date, parse_datetime
from kith.core.services import record_change
from kith.testing import make_person


def test_now_is_aware_utc_and_today_is_its_utc_day() -> None:
    moment = clock.now()
    assert moment.tzinfo is not None and moment.utcoffset() == dt.timedelta(0)
    assert abs(moment - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)  # noqa: TID251
    assert clock.today() == clock.now().date()


def test_travel_holds_the_clock_and_returns_afterwards() -> None:
    with clock.travel("2024-02-29T23:30:00+00:00") as trip:
        assert clock.now() == dt.datetime(2024, 2, 29, 23, 30, tzinfo=dt.UTC)
        assert clock.today() == dt.date(2024, 2, 29)
        trip.advance(dt.timedelta(hours=1))
        assert clock.today() == dt.date(2024, 3, 1)
        trip.to(dt.date(2030, 1, 1))
        assert clock.now() == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
        with clock.travel("2001-01-01"):
            assert clock.today() == dt.date(2001, 1, 1)
        assert clock.today() == dt.date(2030, 1, 1)
    assert clock.today().year >= 2026


def test_local_today_is_the_users_day_not_the_utc_day(monkeypatch: pytest.MonkeyPatch) -> None:
    with clock.travel("2026-03-01T23:30:00Z"):
        assert clock.today() == dt.date(2026, 3, 1)
        assert clock.local_today("Pacific/Auckland") == dt.date(2026, 3, 2)
        assert clock.local_today("America/Los_Angeles") == dt.date(2026, 3, 1)
        monkeypatch.setenv("KITH_TZ", "Asia/Tokyo")
        assert clock.local_today() == dt.date(2026, 3, 2)
        assert parse_date("today", field="on") == dt.date(2026, 3, 2)
        assert parse_datetime("now", field="at") == clock.now()
    with pytest.raises(ValidationError, match="Mars/Olympus"):
        clock.local_today("Mars/Olympus")


def test_a_trip_is_seen_by_other_threads() -> None:
    seen: list[dt.date] = []
    with clock.travel("1999-12-31"):
        worker = threading.Thread(target=lambda: seen.append(clock.today()))
        worker.start()
        worker.join()
    assert seen == [dt.date(1999, 12, 31)]


def test_a_ticking_trip_runs_on_from_its_start() -> None:
    with clock.travel("2020-01-01T00:00:00Z", tick=True):
        first = clock.now()
        second = clock.now()
    assert dt.datetime(2020, 1, 1, tzinfo=dt.UTC) <= first <= second
    assert second - first < dt.timedelta(seconds=5)


def test_the_time_travel_fixture_moves_what_services_write(time_travel: Trip) -> None:
    change = record_change(entity_id="x", entity_kind="record", action="create")
    assert change.at == dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC)
    time_travel.advance(days=2)
    assert clock.today() == dt.date(2026, 6, 17)


def test_model_defaults_read_the_clock(time_travel: Trip) -> None:
    person = make_person("Ada Lovelace")
    assert person.created_at == dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC)
