"""The API and the web page give the same brief as the selector; privacy through both."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from kith.accounts.selectors import get_user
from kith.briefs.selectors import brief, changes_since

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
    meeting = c.get(f"/meetings/{acme['planned'].id}/brief?{Q}")
    assert meeting.status_code == 200 and "Attendees" in meeting.content.decode()
    assert c.get(f"/records/{acme['secret'].id}/brief").status_code == 404
    assert c.get(f"/records/{acme['org'].id}/brief?since=soon").status_code == 400
