"""The tasks API: the same answers as the CLI, 409 on stale writes, privacy in lists."""

from __future__ import annotations

import json

import pytest

from kith.accounts.selectors import get_user
from kith.accounts.services import add_owned_record
from kith.server.tests.conftest import Caller, make_caller
from kith.testing import log, make_home, make_person


@pytest.fixture
def world(time_travel, settings):  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    home = make_home()
    mia = make_person("Mia Lee", email="mia@our.test", org=home)
    jane = make_person("Jane Doe", email="jane@acme.test")
    return {
        "mia": mia,
        "jane": jane,
        "member": make_caller("member@our.test", "member"),
        "other": make_caller("other@our.test", "member"),
    }


def test_add_list_done_and_same_as_cli(world, cli) -> None:  # type: ignore[no-untyped-def]
    member: Caller = world["member"]
    code, task = member.call(
        "POST", "/tasks", {"title": "Send deck", "due": "2026-06-10", "about": ["Jane Doe"]}
    )
    assert code == 201 and task["owner"] == "member@our.test" and task["overdue"] is True
    code, page = member.call("GET", "/tasks", mine="true", overdue="true")
    assert [t["id"] for t in page["items"]] == [task["id"]]
    _, out, _ = cli("tasks", "--overdue", "--json")
    api_view = {k: v for k, v in page["items"][0].items()}
    assert json.loads(out) == [api_view]
    code, done = member.call("POST", f"/tasks/{task['id']}/done")
    assert code == 200 and done["status"] == "done"
    code, hist = member.call("GET", f"/tasks/{task['id']}/history")
    assert [h["action"] for h in hist] == ["create", "done"]


def test_stale_patch_is_409_with_the_current_task(world) -> None:  # type: ignore[no-untyped-def]
    member: Caller = world["member"]
    _, task = member.call("POST", "/tasks", {"title": "Draft"})
    code, _ = member.call("PATCH", f"/tasks/{task['id']}", {"set": {"title": "A"}, "version": 1})
    assert code == 200
    code, err = member.call("PATCH", f"/tasks/{task['id']}", {"set": {"title": "B"}, "version": 1})
    assert code == 409 and err["field"] == "version" and err["current"]["title"] == "A"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x", "due": "someday"}, "due"),
        ({"title": "x", "owner": "ghost@our.test"}, "owner"),
        ({"title": "x", "about": ["Nobody Here"]}, "about"),
        ({"title": "x", "repeat": "FREQ=NEVER"}, "repeat"),
    ],
)
def test_bad_task_input(world, body, field) -> None:  # type: ignore[no-untyped-def]
    code, err = world["member"].call("POST", "/tasks", body)
    assert code in (404, 422) and err["field"] == field
    code, page = world["member"].call("GET", "/tasks")
    assert page["items"] == []


def test_hidden_record_hides_its_tasks(world) -> None:  # type: ignore[no-untyped-def]
    owner = get_user("member@our.test")
    secret = add_owned_record(user=owner, private=True, type_key="person", name="Secret Sam")
    code, task = world["member"].call("POST", "/tasks", {"title": "Call Sam", "about": [secret.id]})
    assert code == 201
    code, page = world["other"].call("GET", "/tasks")
    assert page["items"] == []
    assert world["other"].call("GET", f"/tasks/{task['id']}")[0] == 404
    assert world["other"].call("POST", f"/tasks/{task['id']}/done")[0] == 404


def test_cadences_and_due(world) -> None:  # type: ignore[no-untyped-def]
    log("call", world["mia"], world["jane"], at="2026-05-01T10:00Z")
    member: Caller = world["member"]
    code, cad = member.call("POST", "/cadences", {"ref": "Jane Doe", "every": 30, "max": 40})
    assert code == 200 and cad["last_contact"] == "2026-05-01" and cad["status"] == "overdue"
    code, rows = member.call("GET", "/due")
    assert [r["id"] for r in rows] == [cad["id"]]
    code, err = member.call("POST", "/cadences", {"ref": "Jane Doe", "every": 30, "max": 5})
    assert code == 422 and err["field"] == "max"
    code, task = member.call("POST", f"/cadences/{cad['id']}/task")
    assert code == 200 and task["source"] == "cadence" and task["owner"] == "member@our.test"
    code, paused = member.call("POST", f"/cadences/{cad['id']}/pause", {"until": "2026-08-01"})
    assert paused["status"] == "paused"
    assert member.call("DELETE", f"/cadences/{cad['id']}")[0] == 204
    assert member.call("GET", "/cadences")[1] == []
