"""Fixtures for page tests: signed-in Django test clients per role, on the real database."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from kith.accounts.selectors import get_user
from kith.accounts.services import add_user

PASSWORD = "correct horse battery"


@pytest.fixture
def make_client() -> Callable[..., Client]:
    """``make_client("member")``: a client signed in as a new user with that role."""
    made: dict[str, int] = {}

    def make(role: str = "member", *, team: str | None = None, csrf: bool = False) -> Client:
        made[role] = made.get(role, 0) + 1
        email = f"{role}{made[role]}@our.test"
        add_user(email=email, role=role, team=team, password=PASSWORD)
        client = Client(enforce_csrf_checks=csrf)
        client.force_login(get_user(email))
        return client

    return make


@pytest.fixture
def member(make_client: Callable[..., Client]) -> Client:
    return make_client("member")


@pytest.fixture
def viewer(make_client: Callable[..., Client]) -> Client:
    return make_client("viewer")


@pytest.fixture
def admin(make_client: Callable[..., Client]) -> Client:
    return make_client("admin")


@pytest.fixture(autouse=True)
def _no_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITH_RATE_LIMIT", "0")
