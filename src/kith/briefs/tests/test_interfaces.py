"""The API and the web page give the same brief as the selector; privacy through both."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from kith.accounts.selectors import get_user
from kith.accounts.services import add_user
from kith.briefs.selectors import brief, changes_since
from kith.briefs.services import send_digest
from kith.core import clock

Q = "since=2026-11-01&as_of=2026-11-07"


@pytest.fixture(autouse=True)
def _no_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITH_RATE_LIMIT", "0")


def _client(email: str) -> Client:
    c = Client()
    c.force_login(get_user(email))
    return c


def test_api_mirrors_the_selector(acme: dict[str, Any]) -> None:
    c = _client("other@our.test")
    r = c.get(f"/api/v1/briefs/{acme['org'].id}?{Q}")
    assert r.status_code == 200, r.content
    want = brief(acme["other"], acme["org"].id, since="2026-11-01", as_of="2026-11-07")
    assert r.json() == json.loads(json.dumps(want))
    r = c.get(f"/api/v1/changes/{acme['org'].id}?{Q}&kind=relationships")
    assert r.status_code == 200
    got = changes_since(
        acme["other"], acme["org"].id, "2026-11-01", "2026-11-07", kinds=["relationships"]
    )
    assert r.json()["items"] == json.loads(json.dumps(got["items"]))
    r = c.get(f"/api/v1/meetings/{acme['planned'].id}/brief?{Q}")
    assert r.status_code == 200 and r.json()["meeting"]["subject"] == "Renewal review"
    r = c.get(f"/api/v1/briefs/{acme['org'].id}?{Q}&format=markdown")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/markdown")
    assert r.content.decode().startswith("# Brief: Acme")
    r = c.get(f"/api/v1/briefs/{acme['org'].id}?{Q}&format=pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF-")


def test_api_bad_input_and_privacy(acme: dict[str, Any]) -> None:
    c = _client("other@our.test")
    r = c.get(f"/api/v1/briefs/{acme['org'].id}?since=soon")
    assert r.status_code == 422 and r.json()["field"] == "since"
    r = c.get(f"/api/v1/briefs/{acme['org'].id}?format=docx")
    assert r.status_code == 422 and r.json()["field"] == "format"
    r = c.get(f"/api/v1/briefs/{acme['secret'].id}")
    assert r.status_code == 404
    body = c.get(f"/api/v1/briefs/{acme['org'].id}?{Q}").content.decode()
    assert "Secret Sam" not in body and acme["secret"].id not in body
    body = c.get(f"/api/v1/changes/{acme['org'].id}?{Q}").content.decode()
    assert "Secret Sam" not in body and acme["hush"].id not in body
    mine = _client("owner@our.test").get(f"/api/v1/briefs/{acme['org'].id}?{Q}").content
    assert b"Secret Sam" in mine


def test_the_brief_page(acme: dict[str, Any]) -> None:
    c = _client("other@our.test")
    record = c.get(f"/records/{acme['org'].id}")
    assert f'href="/records/{acme["org"].id}/brief"' in record.content.decode()
    r = c.get(f"/records/{acme['org'].id}/brief?{Q}")
    assert r.status_code == 200
    html = r.content.decode()
    assert '<h1 id="brief-title">Brief: Acme</h1>' in html
    assert "Jane Doe left Acme on 2026-11-02 (CFO)" in html
    assert f'<a href="/records/{acme["raj"].id}">' in html
    assert "Suggestion:" in html and "Secret Sam" not in html
    assert "style=" not in html and not re.search(r"\son[a-z]+=", html)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    pdf = c.get(f"/records/{acme['org'].id}/brief?{Q}&format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    timeline = c.get(f"/records/{acme['raj'].id}/timeline").content.decode()
    assert f'href="/meetings/{acme["planned"].id}/brief"' in timeline  # the meeting's button
    meeting = c.get(f"/meetings/{acme['planned'].id}/brief?{Q}")
    assert meeting.status_code == 200 and "Attendees" in meeting.content.decode()
    assert c.get(f"/records/{acme['secret'].id}/brief").status_code == 404
    assert c.get(f"/records/{acme['org'].id}/brief?since=soon").status_code == 400


def _ann(acme: dict[str, Any]) -> Client:
    add_user(email="ann@our.test", role="member", team="sales", password="a long password 3")
    return _client("ann@our.test")


def test_digest_pages_and_api(acme: dict[str, Any]) -> None:
    c = _ann(acme)
    r = c.put(
        "/api/v1/digest/subscription",
        {"rrule": "FREQ=DAILY;BYHOUR=7", "zone": "Europe/Paris", "channels": ["in_app", "atom"]},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["channels"] == ["in_app", "atom"]
    assert c.get("/api/v1/digest/subscription").json()["zone"] == "Europe/Paris"
    r = c.put("/api/v1/digest/subscription", {"zone": "Mars/Base"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["field"] == "zone"
    page = c.get("/digests/settings")
    assert page.status_code == 200 and 'value="FREQ=DAILY;BYHOUR=7"' in page.content.decode()
    html = page.content.decode()
    assert "style=" not in html and not re.search(r"\son[a-z]+=", html)
    r = c.post(
        "/digests/settings",
        {
            "rrule": "FREQ=WEEKLY;BYDAY=FR;BYHOUR=16",
            "zone": "UTC",
            "channels": ["email"],
            "active": "1",
        },
    )
    assert r.status_code == 302
    assert c.get("/api/v1/digest/subscription").json()["channels"] == ["email"]
    with clock.travel("2026-11-14T06:00Z"):
        d = send_digest(user="ann@our.test", since="14d")
    assert d is not None
    shown = c.get(f"/digests/{d.pk}")
    assert shown.status_code == 200 and "My accounts that changed most" in shown.content.decode()
    feed = c.get("/digests/feed.atom")
    assert feed.status_code == 200 and f"/digests/{d.pk}</id>".encode() in feed.content
    assert _client("other@our.test").get(f"/digests/{d.pk}").status_code == 404


def test_coach_and_surprises_through_the_api_and_pages(acme: dict[str, Any]) -> None:
    c = _ann(acme)
    r = c.get("/api/v1/coach?as_of=2026-11-14")
    assert r.status_code == 200 and r.json()["person"]["name"] == "Ann Lee"
    assert c.get("/api/v1/coach?user=other@our.test").status_code == 404
    page = c.get("/coach?as_of=2026-11-14")
    assert page.status_code == 200 and "Coaching: Ann Lee" in page.content.decode()
    assert "Secret Sam" not in page.content.decode()
    team = c.get("/api/v1/coach/team/sales").json()
    assert team == [{"email": "ann@our.test", "link": "/coach?user=ann@our.test"}]
    assert "ann@our.test" in c.get("/coach/team/sales").content.decode()
    r = c.put("/api/v1/coach/setting", {"mode": "off"}, content_type="application/json")
    assert r.status_code == 403
    r = c.get("/api/v1/surprises?scope=Acme&as_of=2026-11-14")
    assert r.status_code == 200 and r.json()["scope"] == "Acme"
    r = c.get("/api/v1/surprises?scope=Ann%20Lee")
    assert r.status_code == 422 and r.json()["field"] == "scope"
