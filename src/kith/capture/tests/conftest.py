"""Fixtures: a real Dovecot for the session, a capture key, message builders."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kith.capture.tests.servers import Dovecot, Radicale, start_dovecot, start_radicale

KEY = "0pP7zZ1m8mF3v7bQe2y5nWcYxJ6d9sA4kR1tU0hG3iE="
_users = itertools.count(1)


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    # not under pytest's private (0700) temporary directory: Dovecot's own user reads it
    base = Path(tempfile.mkdtemp(prefix="kith-dovecot-"))
    os.chmod(base, 0o755)
    try:
        server = start_dovecot(base)
        yield server
        server.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[Radicale]:
    """A Radicale of the test's own (empty storage), users ann and bob."""
    server = start_radicale(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def dovecot(dovecot_server: Dovecot) -> Dovecot:
    return dovecot_server


@pytest.fixture
def mailbox(dovecot: Dovecot) -> tuple[str, str]:
    """A fresh mailbox user of its own: (user, password)."""
    user = f"u{next(_users)}x{os.getpid()}"
    return user, dovecot.add_user(user)


@pytest.fixture(autouse=True)
def _capture_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITH_CAPTURE_KEY", KEY)


def message(
    n: int,
    *,
    frm: str = "jane@acme.test",
    to: str = "me@our.test",
    subject: str | None = None,
    msgid: str | None = None,
    date: str = "Mon, 1 Jun 2026 09:30:00 +0000",
    extra: str = "",
    body: str = "Hello there.\n",
) -> bytes:
    head = (
        f"From: {frm}\nTo: {to}\nSubject: {subject or f'message {n}'}\n"
        f"Message-ID: <{msgid or f'm{n}@acme.test'}>\nDate: {date}\n{extra}"
    )
    return f"{head}\n{body}".encode()


def url(dovecot: Dovecot, user: str) -> str:
    return f"imap://{user}@127.0.0.1:{dovecot.port}"


def home_path() -> Path:
    return Path(__file__).parent
