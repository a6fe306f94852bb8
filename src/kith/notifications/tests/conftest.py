"""A real SMTP server on loopback (aiosmtpd), one that refuses, and one that never answers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """What the server received: envelopes and parsed messages."""

    def __init__(self, refuse: str = "") -> None:
        self.refuse = refuse  # an SMTP reply for DATA, e.g. "554 5.7.1 no thanks"
        self.messages: list[Message] = []
        self.envelopes: list[Any] = []
        self.tries = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.tries += 1
        if self.refuse:
            return self.refuse
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.original_content))
        return "250 OK"


class SmtpServer:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.port = free_port()
        self.controller = Controller(inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        self.url = f"smtp://127.0.0.1:{self.port}?timeout=5"

    def stop(self) -> None:
        self.controller.stop()


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 that accepts everything; KITH_SMTP_URL points at it."""
    server = SmtpServer(Inbox())
    monkeypatch.setenv("KITH_SMTP_URL", server.url)
    monkeypatch.setenv("KITH_MAIL_FROM", "Kith <kith@crm.test>")
    monkeypatch.setenv("KITH_BASE_URL", "https://crm.test")
    yield server
    server.stop()


@pytest.fixture
def refusing_smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A real SMTP server that refuses every message with a 5xx reply."""
    server = SmtpServer(Inbox(refuse="554 5.7.1 Message refused by policy"))
    monkeypatch.setenv("KITH_SMTP_URL", server.url)
    yield server
    server.stop()


@pytest.fixture
def silent_smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A TCP listener that accepts connections and never says a word (time-out)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    port = sock.getsockname()[1]
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    monkeypatch.setenv("KITH_SMTP_URL", f"smtp://127.0.0.1:{port}?timeout=0.5")
    yield {"port": port, "connections": held}
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    sock.close()
