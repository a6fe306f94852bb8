"""The bell, the pages, the API and the CLI give the same notifications, each user only theirs."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.test import Client

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_user, create_token
from kith.notifications import selectors, services

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _no_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITH_RATE_LIMIT", "0")


def signed_in(email: str, role: str = "member") -> Client:
    add_user(email=email, role=role, password=PASSWORD)
    client = Client()
    client.force_login(get_user(email))
    return client


def api(email: str) -> Callable[..., tuple[int, object]]:
    _, secret = create_token(email=email)

    def call(method: str, path: str, body: object = None) -> tuple[int, object]:
        client = Client()
        headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
        if method == "GET":
            resp = client.get(f"/api/v1{path}", **headers)
        else:
            resp = client.generic(
                method, f"/api/v1{path}", json.dumps(body) if body is not None else "",
                content_type="application/json", **headers,
            )  # fmt: skip
        return resp.status_code, json.loads(resp.content)

    return call


def test_bell_page_and_mark_read_on_the_web() -> None:
    web = signed_in("jane@our.test")
    jane = get_user("jane@our.test")
    home = web.get("/")
    assert b'hx-get="/notifications/bell"' in home.content
    assert b"bell-count" not in web.get("/notifications/bell").content
    n = services.notify(user=jane, kind="task.due", title="Call <Ann>", link="/people")
    services.notify(user=jane, kind="rule.notify", title="Second")
    assert n is not None
    bell = web.get("/notifications/bell").content.decode()
    assert '<span class="bell-count">2</span>' in bell
    listing = web.get("/notifications").content.decode()
    assert "Call &lt;Ann&gt;" in listing and "2 unread" in listing  # escaped
    resp = web.post(f"/notifications/{n.pk}/read", {"next": "/notifications"})
    assert resp.status_code == 302 and resp["Location"] == "/notifications"
    assert '<span class="bell-count">1</span>' in web.get("/notifications/bell").content.decode()
    assert web.post("/notifications/read-all").status_code == 302
    assert selectors.unread_count(viewer_of(jane)) == 0
    other = signed_in("sam@our.test")
    assert other.post(f"/notifications/{n.pk}/read").status_code == 404  # not theirs


def test_preferences_page_saves_each_kind() -> None:
    web = signed_in("jane@our.test")
    jane = get_user("jane@our.test")
    page = web.get("/notifications/preferences").content.decode()
    assert 'name="email:task.due"' in page and 'name="in_app:default"' in page
    form = {"in_app:default": "on", "email:default": "on", "in_app:task.due": "on"}
    assert web.post("/notifications/preferences", form).status_code == 302
    assert services.effective_preference(jane.pk, "task.due") == (True, False)
    assert services.effective_preference(jane.pk, "rule.notify") == (False, False)


def test_api_lists_pages_and_marks_read_like_the_web() -> None:
    add_user(email="jane@our.test", role="viewer", password=PASSWORD)
    jane = get_user("jane@our.test")
    made = [services.notify(user=jane, kind="task.due", title=f"n{i}") for i in range(3)]
    call = api("jane@our.test")
    code, first = call("GET", "/notifications?limit=2")
    assert code == 200 and isinstance(first, dict)
    assert [n["title"] for n in first["items"]] == ["n2", "n1"] and first["unread"] == 3
    code, second = call("GET", f"/notifications?limit=2&cursor={first['next_cursor']}")
    assert [n["title"] for n in second["items"]] == ["n0"] and second["next_cursor"] is None  # type: ignore[index]
    code, one = call("POST", f"/notifications/{made[0].pk}/read", {})  # type: ignore[union-attr]
    assert code == 200 and one["read"] is True  # type: ignore[index]
    code, unread = call("GET", "/notifications?unread=true")
    assert [n["title"] for n in unread["items"]] == ["n2", "n1"]  # type: ignore[index]
    assert call("POST", "/notifications/read-all") == (200, {"marked": 2})
    code, prefs = call("POST", "/notifications/preferences", {"kind": "task.due", "email": False})
    due = next(k for k in prefs["kinds"] if k["kind"] == "task.due")  # type: ignore[index]
    assert code == 200 and (due["in_app"], due["email"], due["own"]) == (True, False, True)
    code, bad = call("POST", "/notifications/preferences", {"kind": "Nope!"})
    assert code == 422 and "kind: 'Nope!' is not a kind" in bad["message"]  # type: ignore[index]
    add_user(email="sam@our.test", role="member", password=PASSWORD)
    code, _ = api("sam@our.test")("POST", f"/notifications/{made[1].pk}/read", {})  # type: ignore[union-attr]
    assert code == 404
    assert Client().get("/api/v1/notifications").status_code == 401


def test_cli_lists_the_same_notifications(cli) -> None:  # type: ignore[no-untyped-def]
    add_user(email="jane@our.test", role="member", password=PASSWORD)
    jane = get_user("jane@our.test")
    services.notify(user=jane, kind="task.due", title="From the CLI")
    code, out, _ = cli("notifications", "--user", "jane@our.test", "--json")
    assert code == 0
    data = json.loads(out)
    web_items, _ = selectors.notifications_page(viewer_of(jane))
    assert data["items"] == web_items and data["unread"] == 1
    code, out, _ = cli("notifications", "--user", "jane@our.test", "--unread", "--read-all")
    assert code == 0 and "From the CLI" in out and "marked 1 read" in out
    code, _, err = cli("notifications", "--user", "nobody@our.test")
    assert code == 1 and "user: no user 'nobody@our.test'" in err
