"""Sign-in throttling: atomic under a burst, per email and address (nobody locks out
others), and addresses taken from X-Forwarded-For only when a trusted proxy sent it."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.test import Client, RequestFactory

from kith.accounts.services import (
    LOGIN_FAILURES_PER_EMAIL,
    LOGIN_FAILURES_PER_IP,
    SignInThrottled,
    add_user,
    check_credentials,
)
from kith.core.models import AuditEvent
from kith.server.auth import client_ip

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _one_window(time_travel: object) -> None:
    """Hold the clock, so a slow run never straddles two 15-minute counting windows."""


def _login(client: Client, email: str, password: str, ip: str) -> int:
    resp = client.post(
        "/api/v1/auth/login",
        json.dumps({"email": email, "password": password}),
        content_type="application/json",
        REMOTE_ADDR=ip,
    )
    return resp.status_code


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_wrong_passwords_checks_no_more_than_the_limit() -> None:
    add_user(email="burst@our.test", role="member", password=PASSWORD)
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def guess() -> None:
        start.wait()
        try:
            result = check_credentials(email="burst@our.test", password="wrong!", ip="203.0.113.9")
            outcome = "checked" if result is None else "in"
        except SignInThrottled:
            outcome = "throttled"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=guess) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 16
    assert outcomes.count("checked") == LOGIN_FAILURES_PER_EMAIL  # not one more
    assert AuditEvent.objects.filter(action="login.failed").count() == LOGIN_FAILURES_PER_EMAIL


def test_guesses_from_one_address_do_not_lock_the_user_out_elsewhere() -> None:
    add_user(email="victim@our.test", role="member", password=PASSWORD)
    attacker, victim = Client(), Client()
    for _ in range(LOGIN_FAILURES_PER_EMAIL):
        assert _login(attacker, "victim@our.test", "guess guess", "198.51.100.7") == 401
    assert _login(attacker, "victim@our.test", PASSWORD, "198.51.100.7") == 429
    assert _login(victim, "victim@our.test", PASSWORD, "192.0.2.44") == 200


def test_many_emails_from_one_address_throttle_only_that_address() -> None:
    add_user(email="other@our.test", role="member", password=PASSWORD)
    for n in range(LOGIN_FAILURES_PER_IP):
        assert check_credentials(email=f"u{n}@x.test", password="nope", ip="198.51.100.8") is None
    with pytest.raises(SignInThrottled):
        check_credentials(email="other@our.test", password=PASSWORD, ip="198.51.100.8")
    assert check_credentials(email="other@our.test", password=PASSWORD, ip="192.0.2.45")


def test_a_success_gives_its_attempt_back() -> None:
    add_user(email="typo@our.test", role="member", password=PASSWORD)
    for _ in range(3):  # typos, then right, again and again: never throttled
        for _ in range(LOGIN_FAILURES_PER_EMAIL - 1):
            assert (
                check_credentials(email="typo@our.test", password="typo!", ip="192.0.2.1") is None
            )
        assert check_credentials(email="typo@our.test", password=PASSWORD, ip="192.0.2.1")


def test_forwarded_for_counts_only_from_a_trusted_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    rf = RequestFactory()
    forged = rf.get("/", REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert client_ip(forged) == "198.51.100.9"  # no proxies configured: the header is ignored
    monkeypatch.setenv("KITH_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")
    assert client_ip(forged) == "198.51.100.9"  # the peer is no trusted proxy
    proxied = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="7.7.7.7, 203.0.113.5")
    assert client_ip(proxied) == "203.0.113.5"  # the nearest address that is not a proxy
    chain = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.6, 10.1.1.1")
    assert client_ip(chain) == "203.0.113.6"
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"


def test_the_api_sign_in_refuses_cross_site_posts() -> None:
    """Login CSRF: a page elsewhere must not sign a browser in as the attacker."""
    add_user(email="csrf@our.test", role="member", password=PASSWORD)
    body = json.dumps({"email": "csrf@our.test", "password": PASSWORD})
    plain = Client().post("/api/v1/auth/login", body, content_type="text/plain")
    assert plain.status_code == 403 and "sessionid" not in plain.cookies
    elsewhere = Client().post(
        "/api/v1/auth/login",
        body,
        content_type="application/json",
        HTTP_ORIGIN="https://evil.example",
    )
    assert elsewhere.status_code == 403 and "sessionid" not in elsewhere.cookies
    same = Client().post(
        "/api/v1/auth/login", body, content_type="application/json", HTTP_ORIGIN="http://testserver"
    )
    assert same.status_code == 200 and "sessionid" in same.cookies
