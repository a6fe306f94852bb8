"""Webhook targets: internal addresses refused (when added and again when sent), redirects
not followed, errors recorded as categories, a total deadline, deactivation stops the queue."""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from kith.core.errors import ValidationError
from kith.server.tests.conftest import Caller
from kith.webhooks.models import Delivery
from kith.webhooks.outbox import deliver_due
from kith.webhooks.transport import ALLOW_ENV, DEADLINE_ENV, check_url


class Peer:
    """A loopback HTTP server started by the test; ``mode`` says how it answers a POST."""

    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                outer.requests.append(self.command)
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                if outer.mode == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "/elsewhere")
                    self.end_headers()
                elif outer.mode == "drip":  # one byte of the reply every 0.4 s, until cut off
                    with contextlib.suppress(OSError):
                        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(0.4)
                else:
                    self.send_response(204)
                    self.end_headers()

            do_POST = _answer
            do_GET = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def peers() -> Iterator[list[Peer]]:
    made: list[Peer] = []
    yield made
    for p in made:
        p.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/hook",
        "http://192.168.1.1/",
        "http://100.64.0.1/",
        "http://localhost:5432/",
        "http://api.localhost/",
        "http://127.0.0.1:8000/",
        "http://0x7f000001/",
        "http://2130706433/",
        "http://127.1/",
        "http://[::1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fe80::1]/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://intranet/",
        "http://0.0.0.0/",
        "https://user:secret@hooks.example.com/x",
    ],
)
def test_internal_or_credentialed_targets_are_refused(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOW_ENV, "")
    with pytest.raises(ValidationError) as err:
        check_url(url)
    assert err.value.field == "url"


def test_public_targets_and_the_operators_allowances(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_ENV, "")
    assert check_url(" https://hooks.example.com/kith?x=1 ") == "https://hooks.example.com/kith?x=1"
    assert check_url("http://93.184.216.34:8080/") == "http://93.184.216.34:8080/"
    monkeypatch.setenv(ALLOW_ENV, "loopback")
    assert check_url("http://127.0.0.1:9/") and check_url("http://localhost/")
    for still_refused in ("http://10.0.0.7/", "http://169.254.169.254/"):
        with pytest.raises(ValidationError):
            check_url(still_refused)
    monkeypatch.setenv(ALLOW_ENV, "private")
    assert check_url("http://10.0.0.7/") and check_url("http://crm.internal/")
    with pytest.raises(ValidationError):  # link-local (cloud metadata) is never allowed
        check_url("http://169.254.169.254/")


def test_api_refuses_an_internal_url_with_a_clear_field(
    admin: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOW_ENV, "")
    code, err = admin.call("POST", "/webhooks", {"url": "http://169.254.169.254/", "events": ["*"]})
    assert code == 422 and err["field"] == "url" and "link-local" in err["message"]
    assert admin.call("GET", "/webhooks")[1] == []


def test_the_address_is_checked_again_when_sending(
    admin: Caller, member: Caller, peers: list[Peer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name allowed when added but resolving to a refused address later is not sent to."""
    peer = Peer()
    peers.append(peer)
    admin.call("POST", "/webhooks", {"url": f"http://localhost:{peer.port}/h", "events": ["*"]})
    monkeypatch.setenv(ALLOW_ENV, "")  # as if the name now resolved somewhere internal
    member.call("POST", "/records", {"name": "Rebound"})
    assert deliver_due() == 1
    d = Delivery.objects.get()
    assert d.status == "pending" and peer.requests == []
    assert d.attempt_log.get().error == "blocked: the host resolves to a loopback address"


def test_a_redirect_is_a_failure_and_is_not_followed(
    admin: Caller, member: Caller, peers: list[Peer]
) -> None:
    peer = Peer("redirect")
    peers.append(peer)
    admin.call("POST", "/webhooks", {"url": peer.url, "events": ["record.created"]})
    member.call("POST", "/records", {"name": "Redirected"})
    assert deliver_due() == 1
    d = Delivery.objects.get()
    log = d.attempt_log.get()
    assert d.status == "pending" and log.status_code == 302
    assert log.error == "redirect: HTTP 302 is not followed"
    assert peer.requests == ["POST"]  # no GET to the Location


def test_errors_are_categories_not_socket_text(admin: Caller, member: Caller) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    admin.call("POST", "/webhooks", {"url": f"http://127.0.0.1:{port}/", "events": ["*"]})
    member.call("POST", "/records", {"name": "Nobody Listens"})
    deliver_due()
    assert Delivery.objects.get().attempt_log.get().error == "refused: the connection was refused"


def test_a_dripping_receiver_is_cut_at_the_deadline_and_delays_no_other(
    admin: Caller, member: Caller, peers: list[Peer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DEADLINE_ENV, "1.5")
    slow, fast = Peer("drip"), Peer()
    peers.extend([slow, fast])
    admin.call("POST", "/webhooks", {"url": slow.url, "events": ["record.created"]})
    admin.call("POST", "/webhooks", {"url": fast.url, "events": ["record.created"]})
    member.call("POST", "/records", {"name": "Two Hooks"})
    started = time.monotonic()
    assert deliver_due() == 2
    took = time.monotonic() - started
    assert took < 5, took  # the drip alone would take ~16 s; the deadline is 1.5 s
    by_url = {d.webhook.url: d for d in Delivery.objects.select_related("webhook")}
    assert by_url[fast.url].status == "delivered"
    assert by_url[slow.url].status == "pending"
    assert by_url[slow.url].attempt_log.get().error == "timeout"


def test_after_a_failure_a_hooks_other_deliveries_wait_for_the_next_round(
    admin: Caller, member: Caller
) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    admin.call("POST", "/webhooks", {"url": f"http://127.0.0.1:{port}/", "events": ["*"]})
    for n in range(3):
        member.call("POST", "/records", {"name": f"Queued {n}"})
    assert deliver_due() == 1
    assert sorted(Delivery.objects.values_list("attempts", flat=True)) == [0, 0, 1]
    assert not Delivery.objects.filter(claimed_until__isnull=False).exists()


def test_deactivating_a_webhook_stops_what_was_queued(
    admin: Caller, member: Caller, peers: list[Peer]
) -> None:
    peer = Peer()
    peers.append(peer)
    _, hook = admin.call("POST", "/webhooks", {"url": peer.url, "events": ["*"]})
    member.call("POST", "/records", {"name": "Queued Before"})
    assert Delivery.objects.get().status == "pending"
    assert admin.call("PATCH", f"/webhooks/{hook['id']}", {"active": False})[0] == 200
    assert deliver_due() == 0 and peer.requests == []
    code, page = admin.call("GET", f"/webhooks/{hook['id']}/deliveries", status="cancelled")
    assert code == 200 and [d["status"] for d in page["items"]] == ["cancelled"]
