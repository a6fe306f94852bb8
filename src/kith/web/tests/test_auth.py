"""Signing in and out through the web pages; security headers on every page."""

from __future__ import annotations

from django.test import Client

from kith.accounts.selectors import audit_page
from kith.accounts.services import add_user, create_token, disable_user
from kith.web.tests.conftest import PASSWORD


def _user(email: str = "jane@our.test", role: str = "member") -> None:
    add_user(email=email, role=role, password=PASSWORD)


def test_pages_need_sign_in() -> None:
    resp = Client().get("/")
    assert resp.status_code == 302
    assert resp["Location"].startswith("/login?next=")


def test_sign_in_with_csrf_and_go_next() -> None:
    _user()
    client = Client(enforce_csrf_checks=True)
    form = client.get("/login")
    token = form.cookies["csrftoken"].value
    assert (
        client.post("/login", {"email": "jane@our.test", "password": PASSWORD}).status_code == 403
    )
    resp = client.post(
        "/login",
        {
            "email": "Jane@Our.test",
            "password": PASSWORD,
            "next": "/people",
            "csrfmiddlewaretoken": token,
        },
    )
    assert resp.status_code == 302 and resp["Location"] == "/people"
    assert client.get("/").status_code == 200


def test_wrong_password_says_so_and_next_must_be_local() -> None:
    _user()
    client = Client()
    resp = client.post("/login", {"email": "jane@our.test", "password": "nope"})
    assert resp.status_code == 400
    assert "do not match" in resp.content.decode()
    resp = client.post(
        "/login", {"email": "jane@our.test", "password": PASSWORD, "next": "https://evil.test/"}
    )
    assert resp["Location"] == "/"


def test_guessing_is_throttled(time_travel: object) -> None:
    _user()
    client = Client()
    for _ in range(5):
        client.post("/login", {"email": "jane@our.test", "password": "wrong"})
    resp = client.post("/login", {"email": "jane@our.test", "password": PASSWORD})
    assert resp.status_code == 429
    assert "Too many failed attempts" in resp.content.decode()


def test_disabled_user_cannot_sign_in() -> None:
    _user()
    _user("boss@our.test", "admin")
    disable_user(email="jane@our.test")
    resp = Client().post("/login", {"email": "jane@our.test", "password": PASSWORD})
    assert resp.status_code == 400


def test_sign_out_is_a_post(member: Client) -> None:
    assert member.get("/logout").status_code == 405
    assert member.post("/logout")["Location"] == "/login"
    assert member.get("/").status_code == 302


def test_sign_out_is_audited_alike_by_the_web_and_the_api(member: Client) -> None:

    member.post("/logout", REMOTE_ADDR="192.0.2.7")
    _, token = create_token(email="member1@our.test")
    resp = Client().post("/api/v1/auth/logout", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert resp.status_code == 200
    rows, _ = audit_page(action="logout")
    assert [(r["actor"], r["target"]) for r in rows] == [("member1@our.test",) * 2] * 2


def test_security_headers_and_no_traceback_on_404(member: Client) -> None:
    resp = member.get("/no/such/page")
    assert resp.status_code == 404
    assert "script-src 'self'" in resp["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in resp["Content-Security-Policy"]
    assert resp["X-Frame-Options"] == "DENY"
    assert "Traceback" not in resp.content.decode()
    assert "There is no page at this address" in resp.content.decode()
