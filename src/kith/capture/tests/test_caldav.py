"""CalDAV capture against a real Radicale on loopback: discovery, sync-token, etags."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from kith.capture.calendar_services import connect_caldav, sync_calendar
from kith.capture.imap import MailError
from kith.capture.models import Calendar, CalendarEvent
from kith.interactions.models import Interaction


def vcal(*events: str) -> str:
    body = "".join(events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n"


def vevent(uid: str, start: str, summary: str, extra: str = "", end: str = "") -> str:
    value = ";VALUE=DATE" if len(start) == 8 else ""
    stop = f"DTEND{value}:{end}\r\n" if end else ""
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART{value}:{start}\r\n{stop}SUMMARY:{summary}\r\n"
        f"ORGANIZER:mailto:me@our.test\r\nATTENDEE:mailto:jane@acme.test\r\n{extra}END:VEVENT\r\n"
    )


def _at(ext: str) -> dt.datetime:
    return Interaction.objects.get(external_id=ext).at


def test_discovery_then_incremental_sync_by_token(radicale, time_travel):
    radicale.calendar("work")
    radicale.calendar("home")
    radicale.put(
        "work/a.ics", vcal(vevent("a", "20260620T100000Z", "Demo", end="20260620T110000Z"))
    )
    radicale.put("work/b.ics", vcal(vevent("b", "20260601T090000Z", "Past review")))
    radicale.put("work/c.ics", vcal(vevent("c", "20260625", "Offsite", end="20260626")))
    radicale.put(
        "work/w.ics",
        vcal(
            vevent("w", "20260601T100000Z", "Weekly", "RRULE:FREQ=WEEKLY;COUNT=6\r\n"),
        ),
    )
    radicale.put("home/h.ics", vcal(vevent("h", "20260618T180000Z", "Dinner")))
    made = connect_caldav(url=radicale.url, username="ann", secret="pw-ann")
    assert sorted(c.url.rsplit("/", 2)[-2] for c in made) == ["home", "work"]
    work = next(c for c in made if c.url.endswith("/work/"))
    first = sync_calendar(calendar=work)
    assert first["counts"]["interactions_created"] == 9  # a, b, c and six weekly
    assert Interaction.objects.get(external_id="a").meta["planned"] is True
    allday = Interaction.objects.get(external_id="c")
    assert allday.at == dt.datetime(2026, 6, 25, tzinfo=dt.UTC) and allday.duration == 86_400
    work.refresh_from_db()
    assert work.sync_token and work.status == "ok"
    assert CalendarEvent.objects.filter(calendar=work).count() == 4

    assert sync_calendar(calendar=work)["unchanged"] is True  # nothing since the token

    radicale.put("work/a.ics", vcal(vevent("a", "20260622T140000Z", "Demo (moved)")))
    radicale.delete("work/c.ics")
    radicale.put(
        "work/w.ics",
        vcal(
            vevent("w", "20260601T100000Z", "Weekly", "RRULE:FREQ=WEEKLY;COUNT=6\r\n"),
            vevent("w", "20260623T150000Z", "Weekly", "RECURRENCE-ID:20260622T100000Z\r\n"),
        ),
    )
    report = sync_calendar(calendar=work)
    assert report["counts"]["changed"] == 2 and report["counts"]["removed"] == 1
    assert _at("a") == dt.datetime(2026, 6, 22, 14, tzinfo=dt.UTC)
    assert Interaction.objects.get(external_id="a").subject == "Demo (moved)"
    assert Interaction.objects.get(external_id="c").deleted_at is not None
    assert _at("w/2026-06-22T10:00:00+00:00") == dt.datetime(2026, 6, 23, 15, tzinfo=dt.UTC)
    assert Interaction.objects.get(external_id="b").deleted_at is None  # untouched
    assert Interaction.objects.filter(external_id__startswith="w/").count() == 6


def test_a_token_the_server_refuses_falls_back_to_etags(radicale, time_travel):
    radicale.calendar("work")
    radicale.put("work/a.ics", vcal(vevent("a", "20260620T100000Z", "Demo")))
    radicale.put("work/b.ics", vcal(vevent("b", "20260621T100000Z", "Other")))
    [cal] = connect_caldav(url=radicale.url + "ann/work/", username="ann", secret="pw-ann")
    sync_calendar(calendar=cal)
    radicale.delete("work/b.ics")
    radicale.put("work/a.ics", vcal(vevent("a", "20260620T100000Z", "Demo v2")))
    Calendar.objects.filter(pk=cal.pk).update(sync_token="http://radicale.org/ns/sync/bogus")
    cal.refresh_from_db()
    report = sync_calendar(calendar=cal)
    assert report["counts"]["changed"] == 1 and report["counts"]["removed"] == 1
    assert Interaction.objects.get(external_id="a").subject == "Demo v2"
    assert Interaction.objects.get(external_id="b").deleted_at is not None


def test_wrong_credentials_and_no_calendar_are_clear_errors(radicale, cli, monkeypatch):
    with pytest.raises(Exception, match=r"refused the credentials \(HTTP 401\)"):
        connect_caldav(url=radicale.url, username="ann", secret="nope")
    with pytest.raises(Exception, match="no calendar found there"):
        connect_caldav(url=radicale.url, username="bob", secret="pw-bob")
    radicale.calendar("work")
    [cal] = connect_caldav(url=radicale.url, username="ann", secret="pw-ann")
    radicale.proc.terminate()
    radicale.proc.wait(10)
    with pytest.raises(MailError, match=r"cannot reach 127\.0\.0\.1"):
        sync_calendar(calendar=cal)
    cal.refresh_from_db()
    assert cal.status == "error" and cal.next_attempt_at is not None
    monkeypatch.setattr("sys.stdin", io.StringIO("pw-ann\n"))
    code, _, err = cli("calendar", "connect", radicale.url, "--username", "ann",
                       "--password-stdin")  # fmt: skip
    assert code == 1 and "cannot reach" in err


def test_the_cli_connects_a_caldav_account(radicale, cli, monkeypatch, time_travel):
    radicale.calendar("work")
    radicale.put("work/a.ics", vcal(vevent("a", "20260620T100000Z", "Demo")))
    monkeypatch.setattr("sys.stdin", io.StringIO("pw-ann\n"))
    code, out, err = cli("calendar", "connect", radicale.url, "--username", "ann",
                         "--password-stdin", "--json")  # fmt: skip
    assert code == 0, err
    [cal] = json.loads(out)["calendars"]
    assert cal["kind"] == "caldav" and "pw-ann" not in out
    code, out, err = cli("calendar", "sync", cal["id"], "--once", "--json")
    assert code == 0, err
    assert json.loads(out)["calendars"][0]["counts"]["interactions_created"] == 1
