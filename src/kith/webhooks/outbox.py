"""The outbox: events become delivery rows in the writer's transaction, sent after commit.

Any server process may send any due delivery: a row is claimed with one conditional
UPDATE, so several processes on one PostgreSQL never send the same attempt twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import threading
import time
from typing import Any

from django.db import close_old_connections, transaction
from django.db.models import Q

from kith.core import clock
from kith.core.events import subscribe
from kith.core.ids import new_id
from kith.webhooks.models import Attempt, Delivery, Webhook

EVENTS = [
    "record.created",
    "record.updated",
    "record.deleted",
    "record.restored",
    "relationship.started",
    "relationship.ended",
    "interaction.logged",
]
OPTIONAL_EVENTS = ["health.band_changed"]
MAX_ATTEMPTS = 8
CLAIM_SECONDS = 60
TIMEOUT_SECONDS = 10


def backoff_seconds(attempts: int) -> float:
    """Delay before the next try after ``attempts`` failures: exponential, capped at 1 h."""
    base = float(os.environ.get("KITH_WEBHOOK_BACKOFF", "10"))
    return float(min(base * (2 ** max(attempts - 1, 0)), 3600.0))


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Kith-Signature`` value: HMAC-SHA256 over ``"{timestamp}.{body}"``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def _handler(event: str) -> Any:
    def handle(**payload: Any) -> None:
        enqueue(event, payload)

    handle.__name__ = f"webhooks_{event.replace('.', '_')}"
    return handle


_HANDLERS = {event: _handler(event) for event in [*EVENTS, *OPTIONAL_EVENTS]}


def connect() -> None:
    """Subscribe the outbox to every domain event (called from ``AppConfig.ready``)."""
    for event, handler in _HANDLERS.items():
        subscribe(event, handler)


def enqueue(event: str, data: dict[str, Any]) -> list[Delivery]:
    """Write one pending delivery per active webhook that wants ``event``."""
    hooks = [h for h in Webhook.objects.filter(active=True) if event in h.events or "*" in h.events]
    if not hooks:
        return []
    now = clock.now()
    out = []
    for hook in hooks:
        did = new_id("dlv")
        body = {"id": did, "event": event, "at": now.isoformat(), "data": _jsonable(data)}
        out.append(
            Delivery.objects.create(
                id=did, webhook=hook, event=event, payload=body, next_attempt_at=now
            )
        )
    transaction.on_commit(kick)
    return out


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data, default=str))


# -- sending -------------------------------------------------------------------------------

_wake = threading.Event()
_worker: threading.Thread | None = None


def kick() -> None:
    """Ask this process's sender (if running) to look for due deliveries now."""
    _wake.set()


def start_background(interval: float = 5.0) -> None:
    """Run a sender thread in this process: due deliveries go out after commit and on retry."""
    global _worker
    if _worker is not None and _worker.is_alive():
        return

    def loop() -> None:
        while True:
            _wake.wait(interval)
            _wake.clear()
            try:
                deliver_due()
            except Exception:  # a bad row or a lost DB must not end the sender
                time.sleep(interval)
            finally:
                close_old_connections()

    _worker = threading.Thread(target=loop, name="kith-webhooks", daemon=True)
    _worker.start()


def _claim(delivery_id: str, now: dt.datetime) -> bool:
    claimed = Delivery.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        pk=delivery_id,
        status=Delivery.PENDING,
    ).update(claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS))
    return claimed == 1


def deliver_due(*, limit: int = 50, now: dt.datetime | None = None) -> int:
    """Send up to ``limit`` due deliveries; returns how many were attempted."""
    moment = now or clock.now()
    due = list(
        Delivery.objects.filter(status=Delivery.PENDING, next_attempt_at__lte=moment)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=moment))
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    sent = 0
    for did in due:
        if not _claim(did, moment):
            continue
        attempt(Delivery.objects.select_related("webhook").get(pk=did))
        sent += 1
    return sent


def attempt(delivery: Delivery) -> Attempt:
    """Send one delivery now and record the attempt; schedule a retry if it failed."""
    import urllib.error
    import urllib.request

    hook = delivery.webhook
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    stamp = int(time.time())
    request = urllib.request.Request(
        hook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "kith-webhooks/1",
            "X-Kith-Event": delivery.event,
            "X-Kith-Delivery": delivery.id,
            "X-Kith-Signature": sign(hook.secret, stamp, body),
        },
    )
    started = time.monotonic()
    code: int | None = None
    error = ""
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as resp:
            code = resp.status
    except urllib.error.HTTPError as exc:
        code, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        error = str(getattr(exc, "reason", exc))[:500] or type(exc).__name__
    took = int((time.monotonic() - started) * 1000)
    now = clock.now()
    with transaction.atomic():
        log = Attempt.objects.create(
            delivery=delivery, at=now, status_code=code, error=error, duration_ms=took
        )
        delivery.attempts += 1
        delivery.claimed_until = None
        if code is not None and 200 <= code < 300:
            delivery.status = Delivery.DELIVERED
            delivery.delivered_at = now
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = Delivery.FAILED
        else:
            delivery.next_attempt_at = now + dt.timedelta(
                seconds=backoff_seconds(delivery.attempts)
            )
        delivery.save(
            update_fields=["attempts", "claimed_until", "status", "delivered_at", "next_attempt_at"]
        )
    return log
