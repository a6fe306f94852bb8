"""Webhooks from a live `kith serve` (its own worker sending) to receivers the test starts on
loopback: a dripping receiver is cut at the total deadline and delays no other, a redirect
is a failure and is not followed, errors are categories, deactivating stops the queue.

The server allows loopback receivers (``KITH_WEBHOOK_ALLOW=loopback``, the operator's
setting for tests and on-premises receivers); link-local and private targets stay refused.
"""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .conftest import Live

pytestmark = pytest.mark.slow
DEADLINE = 2.0


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return {
        "KITH_WEBHOOK_ALLOW": "loopback",
        "KITH_WEBHOOK_DEADLINE": str(DEADLINE),
        "KITH_WEBHOOK_BACKOFF": "1",  # retries come within seconds, so stopping them shows
    }


class Receiver:
    """A loopback HTTP receiver: ``ok`` (204), ``drip`` (one reply byte every 0.5 s for a
    minute) or ``redirect`` (307 to ``/moved`` on the same receiver)."""

    def __init__(self, mode: str, on_post: Callable[[], None] | None = None) -> None:
        self.mode = mode
        self.on_post = on_post  # run before answering (e.g. deactivate the webhook)
        self.seen: list[tuple[str, str, float]] = []  # (method, path, when)
        self.cut_at: float | None = None  # when Kith hung up on a drip
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                outer.seen.append((self.command, self.path, time.monotonic()))
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if outer.on_post is not None:
                    outer.on_post()
                if outer.mode == "fail":
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif outer.mode == "redirect":
                    self.send_response(307)
                    self.send_header("Location", f"http://127.0.0.1:{outer.port}/moved")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif outer.mode == "drip":
                    try:
                        for byte in b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"y" * 120:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(0.5)
                    except OSError:
                        outer.cut_at = time.monotonic()
                else:
                    self.send_response(204)
                    self.end_headers()

            do_POST = _answer
            do_GET = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(mode: str, on_post: Callable[[], None] | None = None) -> Receiver:
        made.append(Receiver(mode, on_post))
        return made[-1]

    yield make
    for r in made:
        with contextlib.suppress(OSError):
            r.close()


def _hook(live: Live, url: str) -> str:
    code, hook, _ = live.call("POST", "/api/v1/webhooks", {"url": url, "events": ["*"]})
    assert code == 201, hook
    return str(hook["id"])


def _deliveries(live: Live, hook: str) -> list[dict[str, Any]]:
    code, page, _ = live.call("GET", f"/api/v1/webhooks/{hook}/deliveries")
    assert code == 200, page
    return list(page["items"])


def _wait(what: str, ready: Callable[[], Any], seconds: float = 90) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := ready()):
        assert time.monotonic() < deadline, f"waited {seconds:.0f} s for {what}"
        time.sleep(0.3)
    return found


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_dripping_receiver_is_cut_at_the_deadline_and_delays_no_other(
    live: Live, receivers: Callable[..., Receiver]
) -> None:
    slow, fast = receivers("drip"), receivers("ok")
    slow_hook, fast_hook = _hook(live, slow.url), _hook(live, fast.url)
    assert live.call("POST", "/api/v1/records", {"name": "Drip Dana"})[0] == 201
    _wait("the fast receiver", lambda: fast.seen)
    _wait("Kith to hang up on the dripping receiver", lambda: slow.cut_at)
    assert slow.cut_at is not None
    assert fast.seen[0][2] < slow.cut_at  # the fast one did not wait for the slow one
    took = slow.cut_at - slow.seen[0][2]
    assert took < DEADLINE + 2, f"the drip held the sender {took:.1f} s"  # once 60 s
    attempt = _wait(
        "the slow attempt's log",
        lambda: [a for d in _deliveries(live, slow_hook) for a in d["attempt_log"]],
    )[0]
    assert attempt["error"] == "timeout" and attempt["duration_ms"] < (DEADLINE + 2) * 1000
    assert [d["status"] for d in _deliveries(live, fast_hook)] == ["delivered"]
    _deactivate(live, slow_hook)
    _deactivate(live, fast_hook)


def test_a_redirect_is_a_failure_and_is_not_followed(
    live: Live, receivers: Callable[..., Receiver]
) -> None:
    mover = receivers("redirect")
    hook = _hook(live, mover.url)
    assert live.call("POST", "/api/v1/records", {"name": "Moved Max"})[0] == 201
    attempt = _wait(
        "the redirect's attempt",
        lambda: [a for d in _deliveries(live, hook) for a in d["attempt_log"]],
    )[0]
    assert attempt["status_code"] == 307 and attempt["error"].startswith("redirect")
    assert _deliveries(live, hook)[0]["status"] != "delivered"
    assert all(path == "/hook" and method == "POST" for method, path, _ in mover.seen)
    _deactivate(live, hook)


def test_errors_are_categories_and_deactivating_stops_the_queue(live: Live) -> None:
    port = _closed_port()
    hook = _hook(live, f"http://127.0.0.1:{port}/hook")
    assert live.call("POST", "/api/v1/records", {"name": "Refused Rita"})[0] == 201

    def retried() -> list[dict[str, Any]]:
        log = [a for d in _deliveries(live, hook) for a in d["attempt_log"]]
        return log if len(log) >= 2 else []

    log = _wait("two attempts (the backoff is 1 s)", retried)
    assert {a["error"] for a in log} == {"refused: the connection was refused"}
    assert not any(str(port) in a["error"] or "Errno" in a["error"] for a in log)
    _deactivate(live, hook)
    (delivery,) = _deliveries(live, hook)
    assert delivery["status"] == "cancelled"
    attempts = delivery["attempts"]
    time.sleep(12)  # longer than the worker's 10 s sweep and many backoffs
    (delivery,) = _deliveries(live, hook)
    assert delivery["status"] == "cancelled" and delivery["attempts"] == attempts


def test_a_delivery_in_flight_when_its_webhook_is_deactivated_stays_stopped(
    live: Live, receivers: Callable[..., Receiver]
) -> None:
    """The receiver deactivates the webhook while Kith waits for its (failing) reply: the
    failed attempt must not put the cancelled delivery back in the queue."""
    hook: list[str] = []
    peer = receivers("fail", on_post=lambda: _deactivate(live, hook[0]))
    hook.append(_hook(live, peer.url))
    assert live.call("POST", "/api/v1/records", {"name": "Flight Fay"})[0] == 201
    (delivery,) = _wait(
        "the failed attempt",
        lambda: [d for d in _deliveries(live, hook[0]) if d["attempt_log"]],
    )
    assert delivery["attempt_log"][0]["status_code"] == 500
    assert delivery["status"] == "cancelled", delivery


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:169.254.169.254]/",
        "http://10.0.0.7/hook",
        "http://metadata.google.internal/",
    ],
)
def test_allowing_loopback_allows_nothing_else(live: Live, url: str) -> None:
    code, answer, _ = live.call("POST", "/api/v1/webhooks", {"url": url, "events": ["*"]})
    assert code == 422 and answer["field"] == "url", answer


def _deactivate(live: Live, hook: str) -> None:
    code, answer, _ = live.call("PATCH", f"/api/v1/webhooks/{hook}", {"active": False})
    assert code == 200 and answer["active"] is False, answer
