"""Fixtures for API tests: one user per role, each with a token, and a JSON client."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from kith.accounts.services import add_user, create_token


@dataclass
class Caller:
    email: str | None
    token: str | None

    def call(self, method: str, path: str, body: Any = None, **query: Any) -> tuple[int, Any]:
        client = Client()
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}
        url = f"/api/v1{path}"
        if method == "GET":
            resp = client.get(url, query, **headers)
        else:
            data = json.dumps(body) if body is not None else None
            resp = client.generic(
                method, url, data or "", content_type="application/json", **headers
            )
        try:
            content = resp.getvalue() if resp.streaming else resp.content  # a download
            payload = json.loads(content) if content else None
        except ValueError:
            payload = content.decode(errors="replace")
        return resp.status_code, payload


def make_caller(email: str, role: str, team: str | None = None) -> Caller:
    add_user(email=email, role=role, team=team, password="correct horse battery")
    _, secret = create_token(email=email)
    return Caller(email, secret)


@pytest.fixture
def admin() -> Caller:
    return make_caller("admin@our.test", "admin")


@pytest.fixture
def member() -> Caller:
    return make_caller("member@our.test", "member", "sales")


@pytest.fixture
def owner() -> Caller:
    return make_caller("owner@our.test", "member", "support")


@pytest.fixture
def viewer() -> Caller:
    return make_caller("viewer@our.test", "viewer", "marketing")


@pytest.fixture
def anon() -> Caller:
    return Caller(None, None)


@pytest.fixture(autouse=True)
def _no_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITH_RATE_LIMIT", "0")
