"""The hardening review's findings, tried against a live `kith serve` on loopback, on SQLite
and on PostgreSQL: hostile uploads in bounded memory and time, forged cursors, login
CSRF, user-existence oracles, foreign hosts, webhook targets, forwarded addresses."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kith.core.limits import MAX_PARTICIPANTS
from kith.imports.tests.hostile import cells, sheet, workbook
from kith.imports.workbook import MAX_COLUMNS, MAX_ROWS

from .conftest import Live, upload

pytestmark = pytest.mark.slow

MEMORY_BUDGET_MB = 300  # what a hostile upload may add to the server's peak memory


def test_hostile_uploads_are_refused_in_bounded_memory_and_time(live: Live, tmp_path: Path) -> None:
    cell = b'<c t="inlineStr"><is><t>x</t></is></c>'
    wide = workbook(tmp_path / "wide.xlsx", sheet(b'<row r="1">' + cell * 3_000_000 + b"</row>"))
    long = workbook(
        tmp_path / "long.xlsx", sheet(cells(1, ["Name", "Email"]) + b"<row/>" * (MAX_ROWS + 5))
    )
    live.call("GET", "/api/v1/records")  # the worker is up and has served a request
    base = live.peak_mb()
    for book, needle in ((wide, f"{MAX_COLUMNS:,} columns"), (long, f"{MAX_ROWS:,} rows")):
        started = time.monotonic()
        code, answer = upload(live, book.name, book.read_bytes())
        took = time.monotonic() - started
        assert code == 422, answer
        assert needle in answer["message"] and answer["field"] == "file"
        assert took < 60, f"{book.name}: {took:.0f} s"  # once 43-287 s
        grown = live.peak_mb() - base
        assert grown < MEMORY_BUDGET_MB, f"{book.name}: peak grew {grown:.0f} MB"  # once 2.8 GB
    names = [r["name"] for r in live.call("GET", "/api/v1/records")[1]["items"]]
    assert names == ["Our Co"]  # nothing was written


def test_a_message_to_thousands_keeps_the_cap_and_says_so(live: Live) -> None:
    recipients = ", ".join(f"r{n}@far.test" for n in range(3 * MAX_PARTICIPANTS))
    mail = (
        "From: sender@far.test\r\nTo: " + recipients + "\r\nSubject: hi\r\n"
        "Message-ID: <many@far.test>\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\nbody\r\n"
    ).encode()
    code, report = upload(live, "many.eml", mail)
    assert code == 200, report
    assert any(str(MAX_PARTICIPANTS) in w for w in report["warnings"])
    code, page, _ = live.call("GET", "/api/v1/interactions?limit=5")
    assert code == 200 and len(page["items"][0]["participants"]) == MAX_PARTICIPANTS


def test_a_forged_cursor_is_a_clear_error_on_every_list(live: Live) -> None:
    code, made, _ = live.call("POST", "/api/v1/records", {"name": "Cursor Carl"})
    assert code == 201, made
    carl = made["id"]
    for path in (
        "/api/v1/records",
        "/api/v1/interactions",
        "/api/v1/audit",
        "/api/v1/relationships",
        f"/api/v1/records/{carl}/timeline",
        f"/api/v1/records/{carl}/history",
    ):
        for cursor in ("not-a-cursor", "WzEsMiwzXQ", "eyJiZWZvcmUiOiAiMjAyNi0xMy0wMSJ9"):
            code, answer, _ = live.call("GET", f"{path}?cursor={cursor}")
            assert code in (400, 422), (path, cursor, code, answer)
            assert answer["field"] == "cursor", (path, answer)


def test_sign_in_refuses_a_cross_site_form_post(live: Live) -> None:
    body = b'{"email": "admin@our.test", "password": "anything at all"}'
    for headers in (
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/json", "Origin": "https://evil.example"},
    ):
        code, _, answer_headers = live.call(
            "POST", "/api/v1/auth/login", data=body, headers=headers, who=None
        )
        assert code in (400, 403, 415), (headers, code)
        assert "sessionid" not in answer_headers.get("Set-Cookie", "")


def test_no_viewer_can_tell_whether_a_user_exists(live: Live) -> None:
    for method, tail, body in (
        ("PATCH", "", {"role": "admin"}),
        ("POST", "/password", {"password": "a long new password"}),
    ):
        known = live.call(method, f"/api/v1/users/admin@our.test{tail}", body, who="viewer")
        unknown = live.call(method, f"/api/v1/users/nobody@our.test{tail}", body, who="viewer")
        assert known[0] == unknown[0] and known[0] in (403, 404)
        assert str(known[1]).replace("admin@our.test", "X") == str(unknown[1]).replace(
            "nobody@our.test", "X"
        )


def test_a_foreign_host_is_refused(live: Live) -> None:
    code, _, _ = live.call("GET", "/login", who=None, headers={"Host": "evil.example"})
    assert code == 400


def test_a_forwarded_https_is_ignored_from_an_untrusted_peer(live: Live) -> None:
    """Without KITH_TRUSTED_PROXIES anyone could claim HTTPS: the header is ignored."""
    code, _, headers = live.call("GET", "/login", who=None, headers={"X-Forwarded-Proto": "https"})
    assert code == 200 and "Strict-Transport-Security" not in headers
    assert "Secure" not in headers.get("Set-Cookie", "")


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://127.0.0.1:5432/",
        "http://0x7f000001/",
        "http://[::ffff:169.254.169.254]/",
        "http://10.0.0.7/hook",
        "http://user:secret@hooks.example/",
    ],
)
def test_webhooks_to_private_addresses_are_refused(live: Live, url: str) -> None:
    code, answer, _ = live.call("POST", "/api/v1/webhooks", {"url": url, "events": ["*"]})
    assert code == 422 and answer["field"] == "url", answer


def test_a_forwarded_address_is_trusted_only_from_a_configured_proxy(live: Live) -> None:
    """Without KITH_TRUSTED_PROXIES, X-Forwarded-For is ignored: wrong passwords sent with a
    fresh forged address each time still run out of the same address's attempts."""
    codes = []
    for n in range(40):
        code, _, _ = live.call(
            "POST",
            "/api/v1/auth/login",
            {"email": f"u{n}@our.test", "password": "wrong password"},
            who=None,
            headers={"X-Forwarded-For": f"198.51.100.{n}", "Origin": live.base},
        )
        codes.append(code)
    assert 429 in codes, codes
