"""Webhooks: outbox rows written with the change, signed deliveries to a loopback server,
retries with backoff, attempts visible to admins."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from kith.core import clock
from kith.server.tests.conftest import Caller
from kith.webhooks import outbox
from kith.webhooks.models import Delivery
from kith.webhooks.outbox import backoff_seconds, deliver_due


class Receiver:
    """A loopback HTTP server started by the test: records requests, answers ``status``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append({"headers": dict(self.headers), "body": body})
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _verify(secret: str, request: dict[str, Any]) -> bool:
    header = request["headers"]["X-Kith-Signature"]
    parts = dict(p.split("=", 1) for p in header.split(","))
    mac = hmac.new(secret.encode(), f"{parts['t']}.".encode() + request["body"], hashlib.sha256)
    return hmac.compare_digest(mac.hexdigest(), parts["v1"])


def test_signed_delivery_after_write(admin: Caller, member: Caller, receiver: Receiver) -> None:
    code, hook = admin.call(
        "POST",
        "/webhooks",
        {"url": receiver.url, "events": ["record.created", "interaction.logged"]},
    )
    assert code == 201 and hook["secret"].startswith("whsec_")
    _, rec = member.call("POST", "/records", {"name": "Hooked Person"})
    member.call("POST", "/records/" + rec["id"], None)  # a 405 changes nothing
    member.call("PATCH", f"/records/{rec['id']}", {"set": {"name": "Renamed"}})  # not subscribed
    pending = list(Delivery.objects.filter(status="pending"))
    assert [d.event for d in pending] == ["record.created"]
    assert deliver_due() == 1
    assert len(receiver.requests) == 1
    sent = receiver.requests[0]
    assert _verify(hook["secret"], sent)
    assert not _verify("whsec_wrong", sent)
    payload = json.loads(sent["body"])
    assert payload["event"] == "record.created" and payload["data"] == {"record_id": rec["id"]}
    assert sent["headers"]["X-Kith-Event"] == "record.created"
    code, page = admin.call("GET", f"/webhooks/{hook['id']}/deliveries")
    assert code == 200
    (d,) = page["items"]
    assert d["status"] == "delivered" and d["attempts"] == 1
    assert d["attempt_log"][0]["status_code"] == 200
    assert deliver_due() == 0  # nothing sent twice


def test_failures_retry_with_backoff_then_fail(
    admin: Caller, member: Caller, receiver: Receiver
) -> None:
    receiver.status = 500
    _, hook = admin.call("POST", "/webhooks", {"url": receiver.url, "events": ["*"]})
    member.call("POST", "/records", {"name": "Retry Me"})
    (d,) = Delivery.objects.all()
    assert deliver_due() == 1
    d.refresh_from_db()
    assert d.status == "pending" and d.attempts == 1
    wait = (d.next_attempt_at - clock.now()).total_seconds()
    assert backoff_seconds(1) - 2 < wait <= backoff_seconds(1)
    assert deliver_due() == 0  # not due yet
    later = clock.now()
    for n in range(2, outbox.MAX_ATTEMPTS + 1):
        later += dt.timedelta(seconds=backoff_seconds(n - 1) + 1)
        assert deliver_due(now=later) == 1
    d.refresh_from_db()
    assert d.status == "failed" and d.attempts == outbox.MAX_ATTEMPTS
    assert backoff_seconds(3) == 2 * backoff_seconds(2)
    _, page = admin.call("GET", f"/webhooks/{hook['id']}/deliveries", status="failed")
    assert [a["status_code"] for a in page["items"][0]["attempt_log"]] == [
        500
    ] * outbox.MAX_ATTEMPTS
    receiver.status = 204
    code, again = admin.call("POST", f"/deliveries/{d.id}/redeliver")
    assert code == 200 and again["status"] == "pending"
    assert deliver_due() == 1
    d.refresh_from_db()
    assert d.status == "delivered"


def test_unreachable_url_is_an_attempt_with_an_error(admin: Caller, member: Caller) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    admin.call(
        "POST", "/webhooks", {"url": f"http://127.0.0.1:{port}/", "events": ["record.created"]}
    )
    member.call("POST", "/records", {"name": "Nobody Listens"})
    assert deliver_due() == 1
    d = Delivery.objects.get()
    assert d.status == "pending" and d.attempts == 1
    assert d.attempt_log.get().error


def test_webhooks_are_admin_only_and_validated(
    admin: Caller, member: Caller, receiver: Receiver
) -> None:
    assert member.call("GET", "/webhooks")[0] == 403
    assert member.call("POST", "/webhooks", {"url": receiver.url, "events": ["*"]})[0] == 403
    code, err = admin.call("POST", "/webhooks", {"url": "ftp://x", "events": ["*"]})
    assert code == 422 and err["field"] == "url"
    code, err = admin.call("POST", "/webhooks", {"url": receiver.url, "events": ["record.eaten"]})
    assert code == 422 and err["field"] == "events"
    _, hook = admin.call("POST", "/webhooks", {"url": receiver.url, "events": ["record.created"]})
    code, off = admin.call("PATCH", f"/webhooks/{hook['id']}", {"active": False})
    assert code == 200 and off["active"] is False
    member.call("POST", "/records", {"name": "Unheard"})
    assert Delivery.objects.count() == 0
    assert admin.call("DELETE", f"/webhooks/{hook['id']}")[0] == 204
    assert admin.call("GET", "/webhooks")[1] == []
    assert admin.call("GET", "/audit", action="webhook.added")[1]["items"]


def test_a_failed_write_leaves_no_delivery(
    admin: Caller, member: Caller, receiver: Receiver
) -> None:
    admin.call("POST", "/webhooks", {"url": receiver.url, "events": ["*"]})
    code, _ = member.call("POST", "/records", {"name": "Bad", "emails": ["not-an-email"]})
    assert code == 422
    assert Delivery.objects.count() == 0
