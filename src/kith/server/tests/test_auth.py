"""Sessions with CSRF, Bearer tokens (hashed, revocable, expiring), throttling, audit."""

from __future__ import annotations

import datetime as dt
import json

from django.contrib.auth.models import User
from django.test import Client

from kith.accounts.models import ApiToken
from kith.core import clock
from kith.server.tests.conftest import Caller


def _login(client: Client, email: str, password: str) -> tuple[int, dict]:
    resp = client.post(
        "/api/v1/auth/login",
        json.dumps({"email": email, "password": password}),
        content_type="application/json",
    )
    return resp.status_code, resp.json()


def test_session_login_csrf_and_logout(member: Caller) -> None:
    client = Client(enforce_csrf_checks=True)
    code, me = _login(client, "member@our.test", "correct horse battery")
    assert code == 200 and me["role"] == "member" and me["team"] == "sales"
    cookie = client.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert client.get("/api/v1/auth/me").json()["email"] == "member@our.test"
    body = json.dumps({"name": "Via Session"})
    resp = client.post("/api/v1/records", body, content_type="application/json")
    assert resp.status_code == 403 and "CSRF" in resp.json()["message"]
    token = client.cookies["csrftoken"].value
    resp = client.post(
        "/api/v1/records", body, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert resp.status_code == 201 and resp.json()["owner"] == "member@our.test"
    resp = client.post("/api/v1/auth/logout", HTTP_X_CSRFTOKEN=token)
    assert resp.status_code == 200
    assert client.get("/api/v1/auth/me").status_code == 401


def test_cookies_are_secure_over_https(member: Caller) -> None:
    client = Client()
    resp = client.post(
        "/api/v1/auth/login",
        json.dumps({"email": "member@our.test", "password": "correct horse battery"}),
        content_type="application/json",
        secure=True,
    )
    assert resp.status_code == 200 and resp.cookies["sessionid"]["secure"]


def test_login_failures_are_throttled_and_audited(
    member: Caller, admin: Caller, time_travel: object
) -> None:
    client = Client()
    for _ in range(5):
        assert _login(client, "member@our.test", "wrong password!")[0] == 401
    code, err = _login(client, "member@our.test", "correct horse battery")
    assert code == 429 and err["code"] == "rate_limited"
    _, page = admin.call("GET", "/audit", action="login.failed")
    assert len(page["items"]) == 5 and page["items"][0]["target"] == "member@our.test"
    assert admin.call("GET", "/audit", action="login.throttled")[1]["items"]


def test_api_rate_limit_is_429(member: Caller, monkeypatch) -> None:
    monkeypatch.setenv("KITH_RATE_LIMIT", "3")
    codes = [member.call("GET", "/records")[0] for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]


def test_tokens_are_hashed_revocable_and_expire(member: Caller, admin: Caller) -> None:
    code, made = member.call("POST", "/tokens", {"name": "script", "expires_days": 1})
    assert code == 201 and made["token"].startswith("kith_")
    stored = ApiToken.objects.get(pk=made["id"])
    assert made["token"] not in stored.digest and len(stored.digest) == 64
    script = Caller("member@our.test", made["token"])
    assert script.call("GET", "/auth/me")[0] == 200
    assert admin.call("GET", "/audit", action="token.used")[1]["items"]
    ApiToken.objects.filter(pk=made["id"]).update(expires_at=clock.now() - dt.timedelta(seconds=1))
    assert script.call("GET", "/auth/me")[0] == 401
    ApiToken.objects.filter(pk=made["id"]).update(expires_at=None)
    assert script.call("GET", "/auth/me")[0] == 200
    code, _ = Caller("x", "kith_other").call("DELETE", f"/tokens/{made['id']}")
    assert code == 401
    _, theirs = admin.call("POST", "/tokens", {})
    assert member.call("DELETE", f"/tokens/{theirs['id']}")[0] == 404
    code, revoked = member.call("DELETE", f"/tokens/{made['id']}")
    assert code == 200 and revoked["revoked_at"]
    assert script.call("GET", "/auth/me")[0] == 401
    assert member.call("DELETE", f"/tokens/{made['id']}")[0] == 409
    assert all(t["id"] != theirs["id"] for t in member.call("GET", "/tokens")[1])


def test_users_and_permission_changes_are_audited(admin: Caller, member: Caller) -> None:
    assert member.call("GET", "/users")[0] == 403
    assert member.call("POST", "/users", {"email": "x@our.test"})[0] == 403
    code, made = admin.call(
        "POST", "/users", {"email": "New@Our.test", "role": "viewer", "team": "Support"}
    )
    assert code == 201 and made["email"] == "new@our.test" and len(made["password"]) >= 10
    assert admin.call("POST", "/users", {"email": "new@our.test"})[0] == 409
    code, err = admin.call("POST", "/users", {"email": "y@our.test", "role": "king"})
    assert code == 422 and err["field"] == "role"
    code, changed = admin.call("PATCH", "/users/new@our.test", {"role": "member"})
    assert code == 200 and changed["role"] == "member"
    code, err = admin.call("PATCH", "/users/admin@our.test", {"role": "viewer"})
    assert code == 409  # the last admin stays
    code, off = admin.call("PATCH", f"/users/{member.email}", {"active": False})
    assert code == 200 and off["active"] is False
    assert member.call("GET", "/records")[0] == 401
    actions = [e["action"] for e in admin.call("GET", "/audit")[1]["items"]]
    assert "user.added" in actions and "user.changed" in actions
    assert admin.call("GET", "/audit")[1]["items"][0]["actor"] == "admin@our.test"


def test_password_change_own_or_admin(member: Caller, viewer: Caller) -> None:
    code, err = member.call("POST", "/users/member@our.test/password", {"password": "short"})
    assert code == 422 and err["field"] == "password"
    assert (
        member.call("POST", "/users/member@our.test/password", {"password": "a much longer one"})[0]
        == 200
    )
    assert (
        viewer.call("POST", "/users/member@our.test/password", {"password": "a much longer one"})[0]
        == 403
    )
    assert _login(Client(), "member@our.test", "a much longer one")[0] == 200


def test_anonymous_gets_401_json(anon: Caller) -> None:
    code, err = anon.call("GET", "/records")
    assert code == 401 and err == {
        "code": "unauthenticated",
        "message": "sign in, or send Authorization: Bearer TOKEN",
        "field": None,
    }
    assert Caller(None, "kith_wrong").call("GET", "/records")[0] == 401


def test_passwords_are_argon2(member: Caller) -> None:
    assert User.objects.get(username="member@our.test").password.startswith("argon2")
