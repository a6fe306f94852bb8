"""Disabling a user ends their sessions and tokens in every interface (whichever key signed
the session), re-enabling revives neither, and a password change ends the other sessions."""

from __future__ import annotations

import json

from django.contrib.sessions.models import Session
from django.test import Client, override_settings

from kith.accounts.services import add_user, change_user, create_token, server_secret
from kith.server.tests.conftest import Caller

PASSWORD = "correct horse battery"


def _signed_in(email: str) -> Client:
    client = Client()
    resp = client.post(
        "/api/v1/auth/login",
        json.dumps({"email": email, "password": PASSWORD}),
        content_type="application/json",
    )
    assert resp.status_code == 200
    return client


def _me(client: Client) -> int:
    return client.get("/api/v1/auth/me").status_code


def test_cli_disable_ends_sessions_the_server_signed(cli) -> None:  # type: ignore[no-untyped-def]
    add_user(email="leaver@our.test", role="member", password=PASSWORD)
    _, secret = create_token(email="leaver@our.test")
    with override_settings(SECRET_KEY=server_secret()):  # as `kith serve` signs them
        browser = _signed_in("leaver@our.test")
        assert _me(browser) == 200
    assert Session.objects.count() == 1
    code, _, err = cli("user", "disable", "leaver@our.test")  # the CLI has another key
    assert code == 0, err
    assert Session.objects.count() == 0
    change_user(email="leaver@our.test", active=True)
    with override_settings(SECRET_KEY=server_secret()):
        assert _me(browser) == 401  # re-enabled: the old session stays dead
    bearer = Client().get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert bearer.status_code == 401  # ... and so does the old token


def test_api_disable_ends_sessions_and_tokens(admin: Caller) -> None:
    add_user(email="api-leaver@our.test", role="member", password=PASSWORD)
    _, secret = create_token(email="api-leaver@our.test")
    browser = _signed_in("api-leaver@our.test")
    code, _ = admin.call("PATCH", "/users/api-leaver@our.test", {"active": False})
    assert code == 200
    admin.call("PATCH", "/users/api-leaver@our.test", {"active": True})
    assert _me(browser) == 401
    assert Client().get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401
    assert _me(_signed_in("api-leaver@our.test")) == 200  # signing in again works


def test_a_password_change_ends_the_other_sessions_not_this_one() -> None:
    add_user(email="mover@our.test", role="member", password=PASSWORD)
    laptop, phone = _signed_in("mover@our.test"), _signed_in("mover@our.test")
    laptop.get("/api/v1/auth/me")
    resp = laptop.post(
        "/api/v1/users/mover@our.test/password",
        json.dumps({"password": "a brand new passphrase"}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=laptop.cookies["csrftoken"].value,
    )
    assert resp.status_code == 200, resp.content
    assert _me(laptop) == 200 and _me(phone) == 401


def test_nobody_learns_which_user_emails_exist(member: Caller) -> None:
    add_user(email="someone@our.test", role="viewer", password=PASSWORD)
    known = member.call("POST", "/users/someone@our.test/password", {"password": "x" * 12})
    unknown = member.call("POST", "/users/nobody@our.test/password", {"password": "x" * 12})
    assert known[0] == unknown[0] == 403
    assert known[1]["message"] == unknown[1]["message"]
