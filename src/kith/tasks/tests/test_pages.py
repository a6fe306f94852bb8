"""The web pages: tasks page, the record page's section, home's overdue tasks and due
cadences, and the add / done / snooze forms (CSRF enforced), privacy on every page."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from kith.accounts.selectors import get_user
from kith.accounts.services import add_owned_record
from kith.core.viewer import SYSTEM
from kith.tasks.cadence_services import set_cadence
from kith.tasks.models import Task
from kith.tasks.services import create_task
from kith.testing import log, make_home, make_person
from kith.web.tests.test_accessibility import check


@pytest.fixture
def world(time_travel):  # type: ignore[no-untyped-def]
    home = make_home()
    mia = make_person("Mia Lee", email="mia@our.test", org=home)
    jane = make_person("Jane Doe", email="jane@acme.test")
    log("call", mia, jane, at="2026-04-01T10:00Z")
    return {"mia": mia, "jane": jane}


def _csrf(client: Client, url: str) -> str:
    html = client.get(url).content.decode()
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert found, url
    return found.group(1)


def test_tasks_page_add_done_snooze(world, make_client: Callable[..., Client]) -> None:  # type: ignore[no-untyped-def]
    client = make_client("member", csrf=True)
    token = _csrf(client, "/tasks")
    resp = client.post(
        "/tasks/add",
        {
            "title": "Send the deck",
            "due": "2026-06-10",
            "about": "Jane Doe",
            "csrfmiddlewaretoken": token,
        },
        HTTP_HX_REQUEST="true",
    )
    assert resp.status_code == 200 and "Send the deck" in resp.content.decode()
    task = Task.objects.get()
    assert task.owner is not None and task.owner.username == "member1@our.test"
    page = client.get("/tasks?show=overdue").content.decode()
    assert "Send the deck" in page and "overdue" in page
    check(page, "/tasks?show=overdue")
    resp = client.post(
        f"/tasks/{task.id}/snooze",
        {"until": "2026-06-20", "csrfmiddlewaretoken": token},
        HTTP_HX_REQUEST="true",
    )
    assert "snoozed until 2026-06-20" in resp.content.decode()
    assert "Send the deck" not in client.get("/tasks?show=overdue").content.decode()
    resp = client.post(f"/tasks/{task.id}/done", {"csrfmiddlewaretoken": token})
    assert resp.status_code == 302
    task.refresh_from_db()
    assert task.status == "done"
    assert client.post("/tasks/add", {"title": "No token"}).status_code == 403  # CSRF


def test_bad_add_says_why_and_writes_nothing(world, member: Client) -> None:  # type: ignore[no-untyped-def]
    resp = member.post("/tasks/add", {"title": "x", "due": "soon"}, HTTP_HX_REQUEST="true")
    assert resp.status_code == 400 and resp["HX-Retarget"] == "#task-add-error"
    assert "due: &#39;soon&#39; is not a valid date" in resp.content.decode()
    assert not Task.objects.exists()


def test_viewer_cannot_write(world, viewer: Client) -> None:  # type: ignore[no-untyped-def]
    assert viewer.post("/tasks/add", {"title": "x"}).status_code == 403
    assert "Add a task" not in viewer.get("/tasks").content.decode()


def test_record_section_and_home(world, member: Client) -> None:  # type: ignore[no-untyped-def]
    create_task(viewer=SYSTEM, title="Call Jane back", about=[world["jane"]], due="2026-06-01")
    set_cadence(viewer=SYSTEM, ref="Jane Doe", every=30, max_days=45)
    frag = member.get(f"/records/{world['jane'].id}/tasks").content.decode()
    assert "Call Jane back" in frag and "last two-way contact 75 days ago" in frag
    assert (
        f"/records/{world['jane'].id}/tasks"
        in member.get(f"/records/{world['jane'].id}").content.decode()
    )
    home = member.get("/").content.decode()
    assert "Call Jane back" in home and "Due to keep in touch" in home and "Jane Doe" in home
    check(home, "/")
    resp = member.post("/cadences/cad_nope/task")
    assert resp.status_code == 404


def test_hidden_records_tasks_are_not_on_any_page(
    world, make_client: Callable[..., Client]
) -> None:  # type: ignore[no-untyped-def]
    owner_client = make_client("member")
    other_client = make_client("member")
    owner = get_user("member1@our.test")
    secret = add_owned_record(user=owner, private=True, type_key="person", name="Secret Sam")
    create_task(viewer=SYSTEM, title="Call Secret Sam", about=[secret], due="2026-06-01")
    set_cadence(viewer=SYSTEM, ref=secret.id, every=10)
    for url in ("/tasks?show=all", "/tasks?show=overdue", "/"):
        assert "Secret Sam" in owner_client.get(url).content.decode(), url
        assert "Secret Sam" not in other_client.get(url).content.decode(), url
    assert other_client.get(f"/records/{secret.id}/tasks").status_code == 404


def test_an_overdue_cadence_on_home_opens_one_task(
    world, make_client: Callable[..., Client]
) -> None:  # type: ignore[no-untyped-def]
    client = make_client("member", csrf=True)
    cadence = set_cadence(viewer=SYSTEM, ref="Jane Doe", every=30, max_days=45)
    home = client.get("/").content.decode()
    action = f'action="/cadences/{cadence.id}/task"'
    assert action in home and "Open a task" in home  # the form on the overdue row
    token = _csrf(client, "/")
    resp = client.post(f"/cadences/{cadence.id}/task", {"next": "/", "csrfmiddlewaretoken": token})
    assert (resp.status_code, resp["Location"]) == (302, "/")
    task = Task.objects.get()
    assert (task.source, task.source_ref, task.status) == ("cadence", cadence.id, "open")
    assert [link.record_id for link in task.links.all()] == [world["jane"].id]
    assert "last two-way contact 75 days ago" in task.notes
    resp = client.post(
        f"/cadences/{cadence.id}/task", {"csrfmiddlewaretoken": token}, HTTP_HX_REQUEST="true"
    )
    assert resp.status_code == 200 and task.id in resp.content.decode()
    assert Task.objects.count() == 1  # opened again: the same open task, updated
    assert task.title in client.get("/").content.decode()  # now among the overdue tasks


def test_a_task_added_on_the_web_can_close_itself_on_a_call(world, member: Client) -> None:  # type: ignore[no-untyped-def]
    assert 'name="done_when"' in member.get("/tasks").content.decode()
    resp = member.post(
        "/tasks/add",
        {"title": "Call Jane", "about": "Jane Doe", "done_when": "call"},
        HTTP_HX_REQUEST="true",
    )
    assert resp.status_code == 200
    task = Task.objects.get()
    assert task.complete_on == {"kind": "call", "two_way": True}
    log("email", world["mia"], world["jane"], direction="out")  # one-way, not a call
    task.refresh_from_db()
    assert task.status == "open"
    log("call", world["mia"], world["jane"], direction="out")
    task.refresh_from_db()
    assert (task.status, task.evidence != "") == ("done", True)
    resp = member.post("/tasks/add", {"title": "x", "done_when": "a call!"}, HTTP_HX_REQUEST="true")
    assert resp.status_code == 400 and "complete_on: &#39;a call!&#39;" in resp.content.decode()
    assert Task.objects.count() == 1
