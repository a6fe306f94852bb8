"""Sign-in, sessions and tokens against a live `kith serve` behind a (simulated) trusted
proxy on loopback (``KITH_TRUSTED_PROXIES``), so each request can name its client address
in ``X-Forwarded-For``: atomic throttling that locks out nobody else, the audit log's
address, disabling that ends every session and token in every interface (and enabling
that revives none), a password change that ends the other sessions, reads that do not
wait for SQLite's write lock."""

from __future__ import annotations

import json
import sqlite3
import threading
import time

import pytest

from .conftest import PASSWORD, Browser, Live

pytestmark = pytest.mark.slow
WINDOW = 15 * 60  # the sign-in throttle's counting window


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return {"KITH_TRUSTED_PROXIES": "127.0.0.1/32, ::1"}


def _user(live: Live, email: str, role: str = "member") -> None:
    code, answer, _ = live.call(
        "POST", "/api/v1/users", {"email": email, "role": role, "password": PASSWORD}
    )
    assert code == 201, answer


def _token(live: Live, email: str) -> str:
    done = live.kith("token", "create", email, "--json")
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["token"])


def _token_ok(live: Live, token: str) -> bool:
    live.tokens["probe"] = token
    return live.call("GET", "/api/v1/auth/me", who="probe")[0] == 200


def _fresh_window() -> None:
    """Wait for a new counting window when this one ends within a minute (a burst that
    straddles two windows would see its count reset half-way)."""
    into = int(time.time()) % WINDOW
    if into > WINDOW - 60:
        time.sleep(WINDOW - into + 1)


def test_a_burst_of_wrong_passwords_checks_the_limit_and_locks_out_no_one_else(
    live: Live,
) -> None:
    _user(live, "target@our.test")
    _fresh_window()
    codes: list[int] = []

    def guess() -> None:
        codes.append(Browser(live, "203.0.113.9").api_sign_in("target@our.test", "wrong one"))

    threads = [threading.Thread(target=guess) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [401] * 5 + [429] * 11, codes  # once 18 checked of a limit of 5
    # the attacker's address is out of attempts for that user; the user elsewhere is not
    assert Browser(live, "203.0.113.9").api_sign_in("target@our.test") == 429
    assert Browser(live, "198.51.100.77").api_sign_in("target@our.test") == 200
    assert Browser(live, "198.51.100.78").web_sign_in("target@our.test") == 302


def test_many_emails_from_one_address_throttle_only_that_address(live: Live) -> None:
    _user(live, "bystander@our.test")
    _fresh_window()
    for n in range(30):
        assert Browser(live, "203.0.113.20").api_sign_in(f"guess{n}@our.test", "x") == 401
    assert Browser(live, "203.0.113.20").api_sign_in("bystander@our.test") == 429
    assert Browser(live, "203.0.113.21").api_sign_in("bystander@our.test") == 200
    code, page, _ = live.call("GET", "/api/v1/audit?limit=100")
    assert code == 200, page
    addresses = {e["ip"] for e in page["items"] if e["action"].startswith("login")}
    assert {"203.0.113.20", "203.0.113.21"} <= addresses  # the client's, via the proxy


@pytest.mark.parametrize("how", ["cli", "api"])
def test_disabling_ends_every_session_and_token_and_enabling_revives_none(
    live: Live, how: str
) -> None:
    email = f"leaver-{how}@our.test"
    _user(live, email)
    api, web = Browser(live, "198.51.100.5"), Browser(live, "198.51.100.6")
    assert api.api_sign_in(email) == 200 and web.web_sign_in(email) == 302
    token = _token(live, email)
    assert api.api_ok() and web.web_ok() and _token_ok(live, token)
    if how == "cli":  # the CLI signs with another key than the server: sessions still end
        done = live.kith("user", "disable", email)
        assert done.returncode == 0, done.stderr
    else:
        assert live.call("PATCH", f"/api/v1/users/{email}", {"active": False})[0] == 200
    assert not api.api_ok() and not web.web_ok() and not _token_ok(live, token)
    if how == "cli":
        done = live.kith("user", "enable", email)
        assert done.returncode == 0, done.stderr
    else:
        assert live.call("PATCH", f"/api/v1/users/{email}", {"active": True})[0] == 200
    assert not api.api_ok() and not web.web_ok() and not _token_ok(live, token)
    assert Browser(live, "198.51.100.5").api_sign_in(email) == 200  # signing in again works


def test_a_password_change_ends_the_other_sessions_not_this_one(live: Live) -> None:
    email = "changer@our.test"
    _user(live, email)
    here, there, web = (Browser(live, f"198.51.100.{n}") for n in (10, 11, 12))
    assert here.api_sign_in(email) == 200 and there.api_sign_in(email) == 200
    assert web.web_sign_in(email) == 302
    token = _token(live, email)
    new = "another long passphrase"
    code, answer = here.request("POST", f"/api/v1/users/{email}/password", {"password": new})
    assert code == 200, answer
    assert here.api_ok()  # the session that changed it
    assert not there.api_ok() and not web.web_ok()
    assert _token_ok(live, token)  # tokens stay unless asked
    code, answer = here.request(
        "POST", f"/api/v1/users/{email}/password", {"password": PASSWORD, "revoke_tokens": True}
    )
    assert code == 200, answer
    assert here.api_ok() and not _token_ok(live, token)
    token = _token(live, email)
    done = live.kith(
        "user", "passwd", email, "--password-stdin", "--revoke-tokens", stdin=new + "\n"
    )
    assert done.returncode == 0, done.stderr
    assert not here.api_ok()  # the CLI changed it: every session ends
    assert not _token_ok(live, token)


def test_reads_do_not_wait_for_sqlites_write_lock(live: Live) -> None:
    """A CLI import holds SQLite's write lock for its whole transaction; API reads (token
    and session) must still answer, not wait 30 s and fail with 503."""
    url = live.env["KITH_DB"]
    if not url.startswith("sqlite"):
        pytest.skip("SQLite's database-wide write lock")
    browser = Browser(live, "198.51.100.30")
    _user(live, "reader@our.test", role="viewer")
    assert browser.api_sign_in("reader@our.test") == 200
    token = _token(live, "reader@our.test")
    writer = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=5, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # the write lock, as an import's transaction holds it
    try:
        started = time.monotonic()
        for _ in range(3):
            assert _token_ok(live, token)
            assert browser.request("GET", "/api/v1/records?limit=5")[0] == 200
        took = time.monotonic() - started
        assert took < 20, f"six reads took {took:.0f} s under a held write lock"  # once 30 s each
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_api_sign_in_sets_no_session_for_another_site(live: Live) -> None:
    """Login CSRF: a cross-site form or text/plain POST, or JSON naming another origin."""
    _user(live, "victim@our.test")
    for content_type, origin in (
        ("text/plain", None),
        ("application/x-www-form-urlencoded", None),
        ("application/json", "https://evil.example"),
    ):
        headers = {"Content-Type": content_type}
        if origin:
            headers["Origin"] = origin
        body = json.dumps({"email": "victim@our.test", "password": PASSWORD}).encode()
        code, _, answer_headers = live.call(
            "POST", "/api/v1/auth/login", data=body, headers=headers, who=None
        )
        assert code in (400, 403, 415), (content_type, code)
        assert "sessionid" not in answer_headers.get("Set-Cookie", "")


def test_https_through_a_trusted_proxy_gets_hsts_and_secure_cookies(live: Live) -> None:
    forwarded = {"X-Forwarded-For": "198.51.100.40"}
    code, _, secure = live.call(
        "GET", "/login", who=None, headers={**forwarded, "X-Forwarded-Proto": "https"}
    )
    assert code == 200
    assert secure["Strict-Transport-Security"].startswith("max-age=")
    assert "csrftoken=" in secure["Set-Cookie"] and "Secure" in secure["Set-Cookie"]
    code, _, plain = live.call("GET", "/login", who=None, headers=forwarded)
    assert code == 200 and "Strict-Transport-Security" not in plain
    assert "csrftoken=" in plain["Set-Cookie"] and "Secure" not in plain["Set-Cookie"]
