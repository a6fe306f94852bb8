"""Calendar capture from a published ICS feed served on loopback."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest

from kith.capture.calendar_services import subscribe, sync_calendar
from kith.capture.imap import MailError
from kith.capture.tests.servers import FeedServer
from kith.interactions.models import Interaction
from kith.testing import make_home

EVENTS_V1 = """BEGIN:VEVENT
UID:past-1
DTSTART:20260601T100000Z
DTEND:20260601T110000Z
SUMMARY:Kick-off
ORGANIZER;CN=Me:mailto:me@our.test
ATTENDEE;CN=Jane Doe:mailto:jane@acme.test
END:VEVENT
BEGIN:VEVENT
UID:future-2
DTSTART:20260620T100000Z
DTEND:20260620T103000Z
SUMMARY:Pricing call
ORGANIZER:mailto:me@our.test
ATTENDEE:mailto:bob@beta.test
END:VEVENT
BEGIN:VEVENT
UID:allday-3
DTSTART;VALUE=DATE:20260625
DTEND;VALUE=DATE:20260626
SUMMARY:Offsite
ORGANIZER:mailto:me@our.test
ATTENDEE:mailto:jane@acme.test
END:VEVENT
BEGIN:VEVENT
UID:weekly-4
DTSTART:20260601T100000Z
DTEND:20260601T103000Z
RRULE:FREQ=WEEKLY;COUNT=6
SUMMARY:Weekly sync
ORGANIZER:mailto:me@our.test
ATTENDEE:mailto:carol@gamma.test
END:VEVENT
"""

EVENTS_V2 = """BEGIN:VEVENT
UID:future-2
DTSTART:20260621T100000Z
DTEND:20260621T103000Z
SUMMARY:Pricing call (moved)
ORGANIZER:mailto:me@our.test
ATTENDEE:mailto:bob@beta.test
END:VEVENT
BEGIN:VEVENT
UID:weekly-4
DTSTART:20260601T100000Z
DTEND:20260601T103000Z
RRULE:FREQ=WEEKLY;COUNT=6
SUMMARY:Weekly sync
ORGANIZER:mailto:me@our.test
ATTENDEE:mailto:carol@gamma.test
END:VEVENT
BEGIN:VEVENT
UID:weekly-4
RECURRENCE-ID:20260622T100000Z
DTSTART:20260623T150000Z
DTEND:20260623T153000Z
SUMMARY:Weekly sync
ORGANIZER:mailto:me@our.test
ATTENDEE:mailto:carol@gamma.test
END:VEVENT
"""


def ics(events: str) -> str:
    return f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n{events}END:VCALENDAR\n".replace(
        "\n", "\r\n"
    )


@pytest.fixture
def feed() -> Iterator[FeedServer]:
    server = FeedServer(ics(EVENTS_V1))
    yield server
    server.close()


def _at(ext: str) -> dt.datetime:
    return Interaction.objects.get(external_id=ext).at


def test_a_feed_becomes_meetings_then_moves_and_removals_follow(feed, time_travel):
    make_home(domain="our.test")
    cal = subscribe(url=feed.url)
    report = sync_calendar(calendar=cal)
    assert report["counts"]["interactions_created"] == 9  # 3 events and 6 weekly ones
    planned = Interaction.objects.get(external_id="future-2")
    assert planned.kind == "meeting" and planned.meta.get("planned") is True
    allday = Interaction.objects.get(external_id="allday-3")
    assert allday.at == dt.datetime(2026, 6, 25, tzinfo=dt.UTC) and allday.duration == 86_400
    assert Interaction.objects.filter(external_id__startswith="weekly-4/").count() == 6
    assert not Interaction.objects.get(external_id="past-1").meta.get("planned")

    again = sync_calendar(calendar=cal)
    assert again["unchanged"] is True and feed.requests[-1][1] == 304

    feed.text = ics(EVENTS_V2)
    report = sync_calendar(calendar=cal)
    assert _at("future-2") == dt.datetime(2026, 6, 21, 10, tzinfo=dt.UTC)
    assert Interaction.objects.get(external_id="future-2").subject == "Pricing call (moved)"
    moved = "weekly-4/2026-06-22T10:00:00+00:00"
    assert _at(moved) == dt.datetime(2026, 6, 23, 15, tzinfo=dt.UTC)  # the moved instance
    assert Interaction.objects.get(external_id="allday-3").deleted_at is not None  # removed
    past = Interaction.objects.get(external_id="past-1")
    assert past.deleted_at is None  # a past meeting stays as history
    assert report["counts"]["meetings_moved"] == 2 and report["counts"]["planned_removed"] == 1
    assert Interaction.objects.filter(external_id__startswith="weekly-4/").count() == 6
    cal.refresh_from_db()
    assert cal.status == "ok" and cal.etag


def test_a_cancelled_event_removes_its_planned_meeting(feed, time_travel):
    cal = subscribe(url=feed.url)
    sync_calendar(calendar=cal)
    feed.text = ics(
        EVENTS_V1.replace("SUMMARY:Pricing call", "STATUS:CANCELLED\nSUMMARY:Pricing call")
    )
    report = sync_calendar(calendar=cal)
    assert Interaction.objects.get(external_id="future-2").deleted_at is not None
    assert report["counts"]["planned_removed"] == 1


def test_a_broken_feed_or_a_missing_one_is_an_error_on_the_calendar(feed, time_travel, cli):
    cal = subscribe(url=feed.url)
    feed.text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:nonsense\r\n"
    with pytest.raises(MailError, match=r"cal\.ics: no VCALENDAR in the file"):
        sync_calendar(calendar=cal)
    assert not Interaction.objects.exists()
    cal.refresh_from_db()
    assert cal.status == "error" and "no VCALENDAR" in cal.last_error
    gone = subscribe(url=feed.url.replace("cal.ics", "gone.ics"))
    with pytest.raises(MailError, match="answered HTTP 404"):
        sync_calendar(calendar=gone)
    _, out, _ = cli("calendar", "list", "--json")
    rows = {c["id"]: c for c in json.loads(out)["calendars"]}
    assert rows[gone.id]["status"] == "error" and "404" in rows[gone.id]["error"]
    assert rows[cal.id]["status"] == "error"


def test_subscribe_checks_the_url(cli):
    code, _, err = cli("calendar", "subscribe", "ftp://x/cal.ics")
    assert code == 1 and "is not an http(s) or webcal URL" in err
    code, _, err = cli("calendar", "subscribe", "http://example.com/cal.ics")
    assert code == 1 and "plain http" in err


def test_the_cli_subscribes_and_syncs(feed, time_travel, cli):
    code, out, err = cli("calendar", "subscribe", feed.url, "--json")
    assert code == 0, err
    cal = json.loads(out)
    code, out, err = cli("calendar", "sync", "--once", "--json")
    assert code == 0, err
    assert json.loads(out)["calendars"][0]["counts"]["interactions_created"] == 9
    code, out, _ = cli("calendar", "sync", cal["id"], "--once")
    assert "unchanged" in out
