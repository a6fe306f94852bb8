"""The task, cadence and due commands, and ``kith log --commit``, in-process."""

from __future__ import annotations

import json

import pytest

from kith.accounts.services import add_user
from kith.interactions.models import Interaction
from kith.tasks.models import Cadence, Task
from kith.testing import log, make_home, make_person


@pytest.fixture
def world(time_travel, settings, monkeypatch):  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    home = make_home()
    mia = make_person("Mia Lee", email="mia@our.test", org=home)
    jane = make_person("Jane Doe", email="jane@acme.test")
    add_user(email="mia@our.test", role="member", password="a long password 1")
    monkeypatch.setenv("KITH_USER", "mia@our.test")
    return {"mia": mia, "jane": jane}


def test_task_lifecycle(cli, world) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli(
        "task",
        "add",
        "Send the proposal",
        "--due",
        "2026-06-20",
        "--about",
        "Jane Doe",
        "--priority",
        "high",
        "--json",
    )
    assert code == 0, err
    task = json.loads(out)
    assert task["owner"] == "mia@our.test" and task["priority"] == "high"
    tid = task["id"]
    code, out, _ = cli("tasks", "--mine", "--json")
    assert [t["id"] for t in json.loads(out)] == [tid]
    code, out, _ = cli("tasks", "--overdue", "--as-of", "2026-06-21", "--json")
    assert [t["id"] for t in json.loads(out)] == [tid]
    code, out, _ = cli("tasks", "--about", "Jane Doe", "--due-before", "2026-06-20", "--json")
    assert json.loads(out) == []
    assert cli("task", "snooze", tid, "--until", "2026-06-18")[0] == 0
    assert cli("task", "edit", tid, "--set", "title=Send the final proposal")[0] == 0
    code, out, _ = cli("task", "done", tid)
    assert code == 0 and "done" in out and "Send the final proposal" in out
    code, out, _ = cli("task", "reopen", tid, "--json")
    assert json.loads(out)["status"] == "open"
    code, out, _ = cli("task", "cancel", tid, "--json")
    assert json.loads(out)["status"] == "cancelled"
    code, out, _ = cli("task", "show", tid, "--json")
    actions = [h["action"] for h in json.loads(out)["history"]]
    assert actions == ["create", "snooze", "update", "done", "reopen", "cancel"]
    code, out, _ = cli("task", "add", "They sign", "--theirs", "--repeat", "FREQ=WEEKLY", "--json")
    assert json.loads(out)["party"] == "theirs" and json.loads(out)["repeat"] == "FREQ=WEEKLY"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["task", "add", "x", "--due", "tomorrowish"],
            "error: due: 'tomorrowish' is not a valid date",
        ),
        (
            ["task", "add", "x", "--owner", "ghost@our.test"],
            "error: owner: no user 'ghost@our.test'",
        ),
        (["task", "add", "x", "--about", "Nobody"], "error: about: no record matches 'Nobody'"),
        (
            ["task", "add", "x", "--repeat", "FREQ=SOMETIMES"],
            "error: repeat: 'FREQ=SOMETIMES' is not a valid RRULE",
        ),
        (
            [
                "task",
                "add",
                "x",
                "--due",
                "2026-06-20",
                "--repeat",
                "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31",
            ],
            "never fires",
        ),
        (["task", "done", "tsk_nope"], "error: id: no task 'tsk_nope'"),
        (
            ["task", "edit", "tsk_nope", "--set", "nonsense"],
            "error: --set: 'nonsense' is not of the form name=value",
        ),
        (["tasks", "--due-before", "June"], "error: due_before: 'June' is not a valid date"),
        (
            ["cadence", "set", "Jane Doe", "--every", "0"],
            "error: every: 0 must be a positive number of days",
        ),
        (
            ["cadence", "set", "Jane Doe", "--every", "30", "--max", "10"],
            "error: max: 10 is less than every (30)",
        ),
        (
            ["cadence", "set", "Jane Doe", "--every", "30", "--member", "jane@acme.test"],
            "is not one of our people",
        ),
        (["due", "--as-of", "soon"], "error: as_of: 'soon' is not a valid date"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(cli, world, args, message) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = cli(*args)
    assert code == 1 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not Task.objects.exists() and not Cadence.objects.exists()


def test_cadences_and_due(cli, world) -> None:  # type: ignore[no-untyped-def]
    log("call", world["mia"], world["jane"], at="2026-05-01T10:00Z")
    code, out, err = cli("cadence", "set", "Jane Doe", "--every", "30", "--max", "40", "--json")
    assert code == 0, err
    view = json.loads(out)
    assert view["last_contact"] == "2026-05-01" and view["status"] == "overdue"
    code, out, _ = cli("due", "--json")
    (row,) = json.loads(out)
    assert row["record"]["name"] == "Jane Doe" and "45 days ago" in row["reason"]
    code, out, _ = cli("due", "--as-of", "2026-05-20", "--json")
    assert json.loads(out) == []
    code, out, _ = cli("due")
    assert code == 0 and "Jane" in out and "overdue" in out
    code, out, _ = cli("cadence", "scan", "--json")
    assert json.loads(out)["opened"] == 1
    code, out, _ = cli("cadence", "scan", "--json")
    assert json.loads(out)["opened"] == 0 and Task.objects.count() == 1
    code, out, _ = cli("cadence", "list", "--json")
    assert len(json.loads(out)) == 1
    assert cli("cadence", "pause", "Jane Doe", "--until", "2026-07-01")[0] == 0
    assert json.loads(cli("due", "--json")[1]) == []
    assert cli("cadence", "resume", "Jane Doe")[0] == 0
    assert cli("cadence", "remove", "Jane Doe")[0] == 0
    assert not Cadence.objects.exists()
    assert Task.objects.get().status == "cancelled"


def test_cadence_suggest(cli, world) -> None:  # type: ignore[no-untyped-def]
    for day in ("2026-01-05", "2026-01-19", "2026-02-02"):
        log("meeting", world["mia"], world["jane"], at=f"{day}T10:00Z")
    code, out, _ = cli("cadence", "suggest")
    out = " ".join(out.split())
    assert (
        code == 0
        and "suggestion" in out
        and "you talk every ~14 days, 3 two-way contacts since 2026" in out
    )


def test_log_with_commitments(cli, world) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli(
        "log",
        "meeting",
        "--with",
        "Jane Doe",
        "--with",
        "Mia Lee",
        "--commit",
        "us: send the proposal by 2026-12-10",
        "--commit",
        "them: sign the NDA",
        "--json",
    )
    assert code == 0, err
    view = json.loads(out)
    assert [(c["party"], c["title"], c["due"]) for c in view["commitments"]] == [
        ("ours", "send the proposal", "2026-12-10"),
        ("theirs", "sign the NDA", None),
    ]
    code, out, _ = cli("tasks", "--theirs", "--json")
    assert [t["title"] for t in json.loads(out)] == ["sign the NDA"]


def test_bad_commitment_logs_nothing(cli, world) -> None:  # type: ignore[no-untyped-def]
    before = Interaction.objects.count()
    code, _, err = cli("log", "meeting", "--with", "Jane Doe", "--commit", "send it by Friday")
    assert code == 1 and "error: commit: 'send it by Friday' does not start with 'us:'" in err
    code, _, err = cli("log", "meeting", "--with", "Jane Doe", "--commit", "us: pay by Friday")
    assert code == 1 and "'Friday' in 'us: pay by Friday' is not a date" in err
    assert Interaction.objects.count() == before and not Task.objects.exists()
