"""Keep-in-touch cadences: due from the last real two-way contact (never from when the
cadence was set), organisations through their people, members, pauses, the scan."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_owned_record, add_user
from kith.core import jobs, worker
from kith.core.errors import NotFound, ValidationError
from kith.core.models import AuditEvent
from kith.core.viewer import SYSTEM
from kith.tasks import cadence_selectors as sel
from kith.tasks import jobs as task_jobs
from kith.tasks.cadence_services import (
    open_cadence_task,
    pause_cadence,
    remove_cadence,
    scan_cadences,
    set_cadence,
)
from kith.tasks.models import Cadence, Task
from kith.testing import log, make_home, make_org, make_person


@pytest.fixture
def world(time_travel):  # type: ignore[no-untyped-def]
    home = make_home()
    mia = make_person("Mia Lee", email="mia@our.test", org=home)
    tom = make_person("Tom Ode", email="tom@our.test", org=home)
    acme = make_org("Acme")
    jane = make_person("Jane Doe", email="jane@acme.test", org=acme)
    bob = make_person("Bob Roe", email="bob@else.test")
    return {"home": home, "mia": mia, "tom": tom, "acme": acme, "jane": jane, "bob": bob}


def _state(record, as_of=None, member=None):  # type: ignore[no-untyped-def]
    (view,) = [
        v
        for v in sel.list_cadences(SYSTEM, as_of=as_of, record=record)
        if (v["member"] or {}).get("id") == (member.id if member else None)
    ]
    return view


def test_due_counts_from_the_last_two_way_contact_from_the_start(world) -> None:  # type: ignore[no-untyped-def]
    log("call", world["mia"], world["jane"], at="2026-05-01T10:00Z")
    log("email", world["mia"], world["jane"], at="2026-06-10T10:00Z", direction="out")  # one-way
    set_cadence(viewer=SYSTEM, ref="Jane Doe", every=30, max_days=45)
    v = _state(world["jane"])  # today is 2026-06-15: 45 days since the call
    assert v["last_contact"] == "2026-05-01" and v["due_on"] == "2026-05-31"
    assert v["overdue_on"] == "2026-06-15" and v["status"] == "due" and v["band"] == "amber"
    assert "45 days ago" in v["reason"]
    assert _state(world["jane"], as_of=dt.date(2026, 6, 16))["status"] == "overdue"
    assert _state(world["jane"], as_of=dt.date(2026, 5, 20))["status"] == "ok"
    # the last contact as of a past day: only what had happened by then
    assert _state(world["jane"], as_of=dt.date(2026, 4, 30))["last_contact"] is None


def test_any_contact_counts_one_way_outreach(world) -> None:  # type: ignore[no-untyped-def]
    log("call", world["mia"], world["jane"], at="2026-05-01T10:00Z")
    log("email", world["mia"], world["jane"], at="2026-06-10T10:00Z", direction="out")
    set_cadence(viewer=SYSTEM, ref="Jane Doe", every=30, contact="any")
    assert _state(world["jane"])["last_contact"] == "2026-06-10"


def test_organisation_counts_its_people(world) -> None:  # type: ignore[no-untyped-def]
    log("meeting", world["tom"], world["jane"], at="2026-06-01T10:00Z")
    set_cadence(viewer=SYSTEM, ref="Acme", every=20)
    v = _state(world["acme"])
    assert v["last_contact"] == "2026-06-01" and v["status"] == "ok" and v["max"] == 30


def test_member_only_counts_that_member(world) -> None:  # type: ignore[no-untyped-def]
    log("call", world["mia"], world["jane"], at="2026-06-01T10:00Z")
    log("call", world["tom"], world["jane"], at="2026-06-12T10:00Z")
    set_cadence(viewer=SYSTEM, ref="Jane Doe", every=7, member="mia@our.test")
    set_cadence(viewer=SYSTEM, ref="Jane Doe", every=7, member="tom@our.test", counts="team")
    assert _state(world["jane"], member=world["mia"])["last_contact"] == "2026-06-01"
    assert _state(world["jane"], member=world["tom"])["last_contact"] == "2026-06-12"
    due = sel.due(SYSTEM, member=world["mia"])
    assert [d["member"]["id"] for d in due] == [world["mia"].id]
    assert Cadence.objects.count() == 2


def test_never_contacted_is_overdue_now(world) -> None:  # type: ignore[no-untyped-def]
    set_cadence(viewer=SYSTEM, ref="Bob Roe", every=30)
    v = _state(world["bob"])
    assert (
        v["status"] == "overdue"
        and v["last_contact"] is None
        and "no two-way contact" in v["reason"]
    )


def test_set_again_changes_it(world) -> None:  # type: ignore[no-untyped-def]
    a = set_cadence(viewer=SYSTEM, ref="Bob Roe", every=30)
    b = set_cadence(viewer=SYSTEM, ref="Bob Roe", every=10, max_days=12)
    assert a.id == b.id and Cadence.objects.get().max_days == 12


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"every": 0}, "every", "must be a positive number"),
        ({"every": -3}, "every", "must be a positive number"),
        ({"every": "soon"}, "every", "not a number of days"),
        ({"every": 30, "max_days": 20}, "max", "less than every (30)"),
        ({"every": 30, "member": "bob@else.test"}, "member", "not one of our people"),
        ({"every": 30, "member": "nobody@x.test"}, "member", "no person record matches"),
        ({"every": 30, "ref": "Nobody At All"}, "ref", "no record matches"),
        ({"every": 30, "contact": "telepathy"}, "contact", "'telepathy'"),
    ],
)
def test_bad_cadence_input(world, kwargs, field, text) -> None:  # type: ignore[no-untyped-def]
    args = {"ref": "Jane Doe", **kwargs}
    with pytest.raises((ValidationError, NotFound)) as err:
        set_cadence(viewer=SYSTEM, **args)
    assert err.value.field == field and text in err.value.message, err.value.message
    assert not Cadence.objects.exists()


def test_pause_and_remove(world) -> None:  # type: ignore[no-untyped-def]
    set_cadence(viewer=SYSTEM, ref="Bob Roe", every=30)
    pause_cadence(viewer=SYSTEM, ref="Bob Roe", until="2026-07-01")
    assert _state(world["bob"])["status"] == "paused"
    assert sel.due(SYSTEM) == []
    assert _state(world["bob"], as_of=dt.date(2026, 7, 2))["status"] == "overdue"
    with pytest.raises(ValidationError, match="not in the future"):
        pause_cadence(viewer=SYSTEM, ref="Bob Roe", until="2026-06-01")
    remove_cadence(viewer=SYSTEM, ref="Bob Roe")
    assert not Cadence.objects.exists()
    with pytest.raises(NotFound, match="no cadence on Bob Roe"):
        remove_cadence(viewer=SYSTEM, ref="Bob Roe")


def test_scan_opens_updates_and_closes(world, time_travel) -> None:  # type: ignore[no-untyped-def]
    log("call", world["mia"], world["jane"], at="2026-05-01T10:00Z")
    cad = set_cadence(viewer=SYSTEM, ref="Jane Doe", every=20, max_days=30)
    set_cadence(viewer=SYSTEM, ref="Acme", every=60)  # ok: Jane's call counts for Acme
    first = scan_cadences(dt.date(2026, 6, 15))
    assert first == {"cadences": 2, "overdue": 1, "opened": 1, "updated": 0, "closed": 0}
    task = Task.objects.get(dedupe_key=f"cadence:{cad.id}")
    assert task.status == "open" and task.due == dt.date(2026, 5, 31) and task.source == "cadence"
    assert list(task.links.values_list("record_id", flat=True)) == [world["jane"].id]
    again = scan_cadences(dt.date(2026, 6, 16))
    assert again["opened"] == 0 and Task.objects.filter(source="cadence").count() == 1
    time_travel.to("2026-06-17T12:00Z")
    log("call", world["tom"], world["jane"])  # back in touch
    closed = scan_cadences(dt.date(2026, 6, 17))
    assert closed["closed"] == 1
    task.refresh_from_db()
    assert task.status == "done"
    assert AuditEvent.objects.filter(action="cadences.scanned").count() == 3


def test_scan_reads_do_not_grow_with_cadences(world) -> None:  # type: ignore[no-untyped-def]
    people = [make_person(f"P{i}") for i in range(30)]
    for p in people[:5]:
        set_cadence(viewer=SYSTEM, ref=p.id, every=7)
    with CaptureQueriesContext(connection) as few:
        scan_cadences(dt.date(2026, 6, 15))
    for p in people[5:]:
        set_cadence(viewer=SYSTEM, ref=p.id, every=7)
    with CaptureQueriesContext(connection) as many:
        scan_cadences(dt.date(2026, 6, 16))
    assert len(many.captured_queries) <= len(few.captured_queries) + 2


def test_open_cadence_task_dedupes_with_the_scan(world) -> None:  # type: ignore[no-untyped-def]
    set_cadence(viewer=SYSTEM, ref="Bob Roe", every=30)
    t = open_cadence_task(viewer=SYSTEM, ref="Bob Roe")
    scan_cadences()
    assert Task.objects.filter(source="cadence", status="open").get().id == t.id


def test_suggest_from_the_usual_rhythm(world) -> None:  # type: ignore[no-untyped-def]
    for day in ("2025-01-05", "2025-01-26", "2025-02-16", "2025-03-09"):
        log("call", world["mia"], world["bob"], at=f"{day}T10:00Z")
    (s,) = sel.suggestions(SYSTEM)
    assert s["record"]["id"] == world["bob"].id and s["every"] == 21 and s["suggestion"]
    assert s["why"] == "you talk every ~21 days, 4 two-way contacts since 2025"
    set_cadence(viewer=SYSTEM, ref="Bob Roe", every=21)
    assert sel.suggestions(SYSTEM) == []


def test_private_records_cadences_are_hidden(world, settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    add_user(email="owner@our.test", role="member", password="a long password 1")
    add_user(email="other@our.test", role="member", password="a long password 2")
    owner = get_user("owner@our.test")
    secret = add_owned_record(user=owner, private=True, type_key="person", name="Secret Sam")
    set_cadence(viewer=viewer_of(owner), ref=secret.id, every=30)
    set_cadence(viewer=SYSTEM, ref="Bob Roe", every=30)
    other = viewer_of(get_user("other@our.test"))
    assert [d["record"]["name"] for d in sel.due(other)] == ["Bob Roe"]
    assert {d["record"]["name"] for d in sel.due(viewer_of(owner))} == {"Bob Roe", "Secret Sam"}
    with pytest.raises(NotFound):
        set_cadence(viewer=other, ref=secret.id, every=10)


def test_the_shared_answer_follows_new_contact_and_cadence_changes(world, time_travel) -> None:  # type: ignore[no-untyped-def]
    set_cadence(viewer=SYSTEM, ref="Jane Doe", every=10)
    assert [d["record"]["name"] for d in sel.due(SYSTEM)] == ["Jane Doe"]
    log("call", world["mia"], world["jane"])  # in touch now: no longer due
    assert sel.due(SYSTEM) == []
    set_cadence(viewer=SYSTEM, ref="Bob Roe", every=10)
    assert [d["record"]["name"] for d in sel.due(SYSTEM)] == ["Bob Roe"]
    remove_cadence(viewer=SYSTEM, ref="Bob Roe")
    assert sel.due(SYSTEM) == []


def test_the_worker_runs_the_daily_scan(world, time_travel) -> None:  # type: ignore[no-untyped-def]
    assert task_jobs.SCAN in {p.name for p in jobs.periodic_jobs()}
    set_cadence(viewer=SYSTEM, ref="Bob Roe", every=30)
    time_travel.to("2026-06-16T04:59:00Z")
    worker.run_pending()
    assert not Task.objects.exists()  # not due before 05:00 UTC
    time_travel.to("2026-06-16T05:00:00Z")
    worker.run_pending()
    task = Task.objects.get()
    assert task.source == "cadence" and task.title == "Get in touch with Bob Roe"
    time_travel.to("2026-06-17T05:00:00Z")
    worker.run_pending()
    assert Task.objects.count() == 1  # the next day's scan updates, never duplicates
