"""Tasks through the real services: upsert by dedupe key, repeats, self-completion,
privacy in every read, history and audit, stale edits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_owned_record, add_user
from kith.core.errors import Conflict, NotFound, ValidationError
from kith.core.models import AuditEvent, Change
from kith.core.viewer import SYSTEM
from kith.tasks import services as svc
from kith.tasks.models import Task
from kith.tasks.selectors import count_tasks, get_task, task_counts, task_history, tasks_for
from kith.tasks.values import parse_commitment
from kith.testing import log, make_home, make_person


@pytest.fixture
def people(time_travel):  # type: ignore[no-untyped-def]
    home = make_home()
    mia = make_person("Mia Lee", email="mia@our.test", org=home)
    jane = make_person("Jane Doe", email="jane@acme.test")
    return {"home": home, "mia": mia, "jane": jane}


def _ids(items: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return [t["id"] for t in items]


def test_create_list_and_history(people) -> None:  # type: ignore[no-untyped-def]
    task = svc.create_task(
        viewer=SYSTEM, title="Send the proposal", due="2026-06-20", about=["Jane Doe"]
    )
    assert task.id.startswith("tsk_") and task.status == "open"
    items, nxt = tasks_for(SYSTEM)
    assert _ids(items) == [task.id] and nxt is None
    assert items[0]["about"] == [{"id": people["jane"].id, "name": "Jane Doe", "type": "person"}]
    assert AuditEvent.objects.filter(action="task.created", target=task.id).exists()
    svc.complete_task(viewer=SYSTEM, task_id=task.id)
    assert tasks_for(SYSTEM)[0] == []
    assert _ids(tasks_for(SYSTEM, status="done")[0]) == [task.id]
    svc.reopen_task(viewer=SYSTEM, task_id=task.id)
    assert [h["action"] for h in task_history(SYSTEM, task.id)] == ["create", "done", "reopen"]


def test_overdue_due_before_and_snooze(people, time_travel) -> None:  # type: ignore[no-untyped-def]
    late = svc.create_task(viewer=SYSTEM, title="Late", due="2026-06-10")
    soon = svc.create_task(viewer=SYSTEM, title="Soon", due="2026-06-18")
    undated = svc.create_task(viewer=SYSTEM, title="Someday")
    assert _ids(tasks_for(SYSTEM)[0]) == [late.id, soon.id, undated.id]
    assert _ids(tasks_for(SYSTEM, overdue=True, as_of=dt.date(2026, 6, 15))[0]) == [late.id]
    assert _ids(tasks_for(SYSTEM, overdue=True, as_of=dt.date(2026, 6, 19))[0]) == [
        late.id,
        soon.id,
    ]
    assert _ids(tasks_for(SYSTEM, due_before=dt.date(2026, 6, 11))[0]) == [late.id]
    svc.snooze_task(viewer=SYSTEM, task_id=late.id, until="2026-06-17")
    assert _ids(tasks_for(SYSTEM, overdue=True, as_of=dt.date(2026, 6, 15))[0]) == []
    assert _ids(tasks_for(SYSTEM, status="snoozed")[0]) == [late.id]
    time_travel.to("2026-06-17T12:00Z")
    assert late.id in _ids(tasks_for(SYSTEM, overdue=True)[0])  # back after the snooze
    counts = task_counts(SYSTEM, as_of=dt.date(2026, 6, 18))
    assert counts == {"open": 3, "overdue": 1, "today": 1}


def test_paging_is_stable(people) -> None:  # type: ignore[no-untyped-def]
    made = [
        svc.create_task(viewer=SYSTEM, title=f"T{i}", due=f"2026-07-{i % 5 + 1:02d}")
        for i in range(12)
    ]
    seen, cursor = [], None
    while True:
        items, cursor = tasks_for(SYSTEM, cursor=cursor, limit=5)
        seen += _ids(items)
        if not cursor:
            break
    assert sorted(seen) == sorted(t.id for t in made) and len(seen) == 12


def test_dedupe_key_updates_the_open_task(people) -> None:  # type: ignore[no-untyped-def]
    a = svc.create_task(
        viewer=SYSTEM, title="Call Jane", dedupe_key="rule:7:jane", source="rule", due="2026-06-20"
    )
    b = svc.create_task(
        viewer=SYSTEM,
        title="Call Jane soon",
        dedupe_key="rule:7:jane",
        source="rule",
        due="2026-06-22",
        about=["Jane Doe"],
    )
    assert a.id == b.id and Task.objects.count() == 1
    b.refresh_from_db()
    assert b.title == "Call Jane soon" and b.due == dt.date(2026, 6, 22) and b.version == 2
    svc.complete_task(viewer=SYSTEM, task_id=a.id)
    c = svc.create_task(viewer=SYSTEM, title="Call Jane", dedupe_key="rule:7:jane")
    assert c.id != a.id  # the done one stays done; the purpose is open again
    with pytest.raises(Conflict, match="dedupe_key"):
        svc.reopen_task(viewer=SYSTEM, task_id=a.id)


def test_repeat_opens_the_next_occurrence(people) -> None:  # type: ignore[no-untyped-def]
    t = svc.create_task(
        viewer=SYSTEM,
        title="Weekly report",
        due="2026-06-15",
        repeat="FREQ=WEEKLY;BYDAY=MO",
        about=["Jane Doe"],
    )
    svc.complete_task(viewer=SYSTEM, task_id=t.id)
    (nxt,) = tasks_for(SYSTEM)[0]
    assert nxt["due"] == "2026-06-22" and nxt["repeat"] == "FREQ=WEEKLY;BYDAY=MO"
    assert nxt["about"][0]["id"] == people["jane"].id
    monthly = svc.create_task(
        viewer=SYSTEM, title="Invoice", due="2026-01-31", repeat="FREQ=MONTHLY;COUNT=2"
    )
    svc.complete_task(viewer=SYSTEM, task_id=monthly.id)
    follow = Task.objects.get(previous=monthly.id)
    assert follow.due == dt.date(2026, 3, 31)  # dateutil skips months without a 31st
    svc.complete_task(viewer=SYSTEM, task_id=follow.id)
    assert not Task.objects.filter(previous=follow.id).exists()  # COUNT=2: the series ends


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=FORTNIGHTLY", "not a valid RRULE"),
        ("bogus", "not a valid RRULE"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "never fires"),
        ("FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31", "never fires"),
        ("FREQ=WEEKLY;COUNT=0", "never fires"),
        ("FREQ=DAILY;UNTIL=20250101", "never fires"),
        ("FREQ=HOURLY", "more often than daily"),
    ],
)
def test_bad_repeat_is_refused_and_writes_nothing(people, rule: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match=message) as err:
        svc.create_task(viewer=SYSTEM, title="x", due="2026-06-20", repeat=rule)
    assert err.value.field == "repeat" and rule in err.value.message
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"due": "next tuesday"}, "due", "'next tuesday' is not a valid date"),
        ({"due": "2026-02-30"}, "due", "'2026-02-30'"),
        ({"owner": "nobody@our.test"}, "owner", "no user 'nobody@our.test'"),
        ({"about": ["No Such Person"]}, "about", "no record matches 'No Such Person'"),
        ({"priority": "asap"}, "priority", "'asap'"),
        ({"title": "  "}, "title", "needs a title"),
    ],
)
def test_bad_input_names_the_field(people, kwargs, field, text) -> None:  # type: ignore[no-untyped-def]
    args = {"title": "Do it", **kwargs}
    with pytest.raises((ValidationError, NotFound)) as err:
        svc.create_task(viewer=SYSTEM, **args)
    assert err.value.field == field and text in err.value.message
    assert not Task.objects.exists()


def test_ambiguous_about(people) -> None:  # type: ignore[no-untyped-def]
    make_person("Jane Doe", email="jane2@other.test")
    with pytest.raises(Exception, match="ambiguous") as err:
        svc.create_task(viewer=SYSTEM, title="x", about=["Jane Doe"])
    assert getattr(err.value, "field", None) == "about"


def test_stale_edit_is_a_conflict(people) -> None:  # type: ignore[no-untyped-def]
    t = svc.create_task(viewer=SYSTEM, title="Draft")
    svc.edit_task(viewer=SYSTEM, task_id=t.id, changes={"title": "Draft 2"}, expected_version=1)
    with pytest.raises(Conflict, match="version"):
        svc.edit_task(viewer=SYSTEM, task_id=t.id, changes={"title": "Draft 3"}, expected_version=1)
    with pytest.raises(ValidationError, match="'colour' is not a task field"):
        svc.edit_task(viewer=SYSTEM, task_id=t.id, changes={"colour": "red"})
    got = svc.edit_task(
        viewer=SYSTEM, task_id=t.id, changes={"due": "2026-07-01T09:30", "priority": "high"}
    )
    assert got.due == dt.date(2026, 7, 1) and got.due_time == dt.time(9, 30) and got.priority == 3
    hist = task_history(SYSTEM, t.id)
    assert hist[-1]["new"] == {"due": "2026-07-01", "due_time": "09:30", "priority": 3}


def test_privacy_follows_the_records(people, settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    add_user(email="owner@our.test", role="member", password="a long password 1")
    add_user(email="other@our.test", role="member", password="a long password 2")
    owner, other = get_user("owner@our.test"), get_user("other@our.test")
    secret = add_owned_record(user=owner, private=True, type_key="person", name="Secret Sam")
    hidden = svc.create_task(
        viewer=viewer_of(owner), title="Call Sam", about=[secret, people["jane"]], due="2026-06-01"
    )
    shown = svc.create_task(
        viewer=SYSTEM, title="Call Jane", about=[people["jane"]], due="2026-06-01"
    )
    them = viewer_of(other)
    assert _ids(tasks_for(them)[0]) == [shown.id]
    assert count_tasks(them, overdue=True) == 1 and count_tasks(viewer_of(owner), overdue=True) == 2
    assert task_counts(them)["open"] == 1
    assert _ids(tasks_for(them, about=people["jane"])[0]) == [shown.id]
    with pytest.raises(NotFound):
        get_task(them, hidden.id)
    with pytest.raises(NotFound):
        svc.complete_task(viewer=them, task_id=hidden.id)
    with pytest.raises(NotFound):  # nor may they make a task about it
        svc.create_task(viewer=them, title="Peek", about=[secret.id])
    assert set(_ids(tasks_for(viewer_of(owner))[0])) == {hidden.id, shown.id}


def test_completes_itself_on_a_two_way_call(people) -> None:  # type: ignore[no-untyped-def]
    jane, mia = people["jane"], people["mia"]
    t = svc.create_task(viewer=SYSTEM, title="Call Jane", about=[jane], complete_on="call")
    other = svc.create_task(viewer=SYSTEM, title="Meet Jane", about=[jane], complete_on="meeting")
    log("email", mia, jane, direction="out")  # not a call
    assert get_task(SYSTEM, t.id).status == "open"
    call = log("call", mia, jane)
    assert get_task(SYSTEM, t.id).status == "done"
    assert get_task(SYSTEM, t.id).evidence == call.id
    assert get_task(SYSTEM, other.id).status == "open"
    done = [h for h in task_history(SYSTEM, t.id) if h["action"] == "done"]
    assert call.id in done[0]["note"]
    assert AuditEvent.objects.filter(
        action="task.done", target=t.id, detail__evidence=call.id
    ).exists()


def test_an_earlier_interaction_does_not_complete_it(people, time_travel) -> None:  # type: ignore[no-untyped-def]
    t = svc.create_task(
        viewer=SYSTEM, title="Call Jane", about=[people["jane"]], complete_on="call"
    )
    log("call", people["mia"], people["jane"], at="2026-06-01T10:00Z")  # backfilled, before
    assert get_task(SYSTEM, t.id).status == "open"


def test_one_way_email_does_not_complete_a_two_way_condition(people) -> None:  # type: ignore[no-untyped-def]
    t = svc.create_task(
        viewer=SYSTEM, title="Hear from Jane", about=[people["jane"]], complete_on="email"
    )
    log("email", people["mia"], people["jane"], direction="out")
    assert get_task(SYSTEM, t.id).status == "open"
    log("email", people["jane"], people["mia"], direction="in")
    assert get_task(SYSTEM, t.id).status == "done"


def test_commitments_from_a_meeting(people) -> None:  # type: ignore[no-untyped-def]
    commits = [
        parse_commitment("us: send the proposal by 2026-12-10"),
        parse_commitment("them: sign the NDA"),
    ]
    interaction, created, tasks = svc.log_with_commitments(
        viewer=SYSTEM,
        commitments=commits,
        kind="meeting",
        participants=[(people["mia"].id, None), (people["jane"].id, None)],
    )
    assert created and [t.party for t in tasks] == ["ours", "theirs"]
    assert tasks[0].title == "send the proposal" and tasks[0].due == dt.date(2026, 12, 10)
    assert tasks[1].due is None and tasks[1].source_ref == interaction.id
    about = {a["id"] for t in tasks_for(SYSTEM)[0] for a in t["about"]}
    assert about == {people["jane"].id}  # the outside participants, not our own people


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("send it", "does not start with 'us:' or 'them:'"),
        ("us:", "says nothing to do"),
        ("them: pay by someday", "'someday' in 'them: pay by someday' is not a date"),
    ],
)
def test_bad_commitment(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_commitment(text)


def test_reads_write_nothing(people) -> None:  # type: ignore[no-untyped-def]
    svc.create_task(viewer=SYSTEM, title="x", about=[people["jane"]], due="2026-06-01")
    with CaptureQueriesContext(connection) as ctx:
        tasks_for(SYSTEM, overdue=True)
        task_counts(SYSTEM)
    assert not [
        q for q in ctx.captured_queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")
    ]


def test_list_query_count_is_pinned(people) -> None:  # type: ignore[no-untyped-def]
    for i in range(20):
        svc.create_task(viewer=SYSTEM, title=f"T{i}", about=[people["jane"], people["mia"]])
    with CaptureQueriesContext(connection) as ctx:
        items, _ = tasks_for(viewer_of(None), limit=50)
    assert len(items) == 20 and len(ctx.captured_queries) <= 3


def test_changes_are_recorded(people) -> None:  # type: ignore[no-untyped-def]
    t = svc.create_task(viewer=SYSTEM, title="x")
    svc.cancel_task(viewer=SYSTEM, task_id=t.id)
    assert list(Change.objects.filter(entity_id=t.id).values_list("action", flat=True)) == [
        "create",
        "cancel",
    ]
