"""The outbox: events become delivery rows in the writer's transaction, sent by the worker.

The transaction that writes deliveries also queues a job (``send_due_deliveries``) for the
worker, so they go out as soon as it commits; a periodic run of the same job picks up the
retries whose back-off has passed. Any worker may send any due delivery: a row is claimed
with one conditional UPDATE, so several workers on one PostgreSQL never send the same
attempt twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import transaction
from django.db.models import Q
from django_tasks_db.models import DBTaskResult

from kith.core import clock, jobs
from kith.core.errors import NotFound
from kith.core.events import subscribe
from kith.core.ids import new_id
from kith.webhooks.models import Attempt, Delivery, Webhook
from kith.webhooks.transport import Outcome, post

EVENTS = [
    "record.created",
    "record.updated",
    "record.deleted",
    "record.restored",
    "relationship.started",
    "relationship.ended",
    "interaction.logged",
    "records.imported",
]
OPTIONAL_EVENTS = ["health.band_changed"]
_IN_PROCESS_ONLY = {"type_key", "changes"}
MAX_ATTEMPTS = 8
CLAIM_SECONDS = 60
SENDERS = 8  # webhooks served at once in one round
SWEEP_SECONDS = 10  # how often the worker looks for retries that have become due


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
        # the payload webhooks document: ids only (never field values, which a record's
        # change carries for the rules, private records' included)
        enqueue(event, {k: v for k, v in payload.items() if k not in _IN_PROCESS_ONLY})

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
    out = [_delivery(hook, event, data) for hook in hooks]
    queue_send()
    return out


def _delivery(hook: Webhook, event: str, data: dict[str, Any]) -> Delivery:
    now = clock.now()
    did = new_id("dlv")
    body = {"id": did, "event": event, "at": now.isoformat(), "data": _jsonable(data)}
    return Delivery.objects.create(
        id=did, webhook=hook, event=event, payload=body, next_attempt_at=now
    )


def enqueue_to(hook_id: str, event: str, data: dict[str, Any]) -> Delivery:
    """Write one pending delivery of ``event`` to one webhook (a rule's webhook action)."""
    hook = Webhook.objects.filter(pk=hook_id).first()
    if hook is None or not hook.active:
        raise NotFound(f"webhook: no active webhook {hook_id!r}", field="webhook")
    delivery = _delivery(hook, event, data)
    queue_send()
    return delivery


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return out


# -- sending -------------------------------------------------------------------------------


def _pending() -> bool:
    return Delivery.objects.filter(status=Delivery.PENDING, webhook__active=True).exists()


@jobs.periodic("webhooks.send", every=dt.timedelta(seconds=SWEEP_SECONDS), when=_pending)
def send_due_deliveries() -> int:
    """Send every delivery that is due now (the worker's job); returns how many."""
    sent = 0
    for _ in range(20):  # a full batch may have more behind it; at most 1,000 a run
        done = deliver_due(limit=50)
        sent += done
        if done < 50:
            break
    return sent


def queue_send() -> None:
    """Queue one sending job in this transaction, unless one is already waiting to start."""
    path = send_due_deliveries.module_path
    if not DBTaskResult.objects.filter(status="READY", task_path=path).exists():
        jobs.enqueue(send_due_deliveries)


def _claim(delivery_id: str, now: dt.datetime) -> bool:
    claimed = Delivery.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        pk=delivery_id,
        status=Delivery.PENDING,
    ).update(claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS))
    return claimed == 1


def deliver_due(*, limit: int = 50, now: dt.datetime | None = None) -> int:
    """Send up to ``limit`` due deliveries; returns how many were attempted.

    Each webhook's deliveries go out in order on a sender of their own, so one slow or
    dead receiver holds up only itself; after its first failure in a round the rest of
    its deliveries wait for the next round instead of each waiting out the deadline.
    """
    moment = now or clock.now()
    due = list(
        Delivery.objects.filter(
            status=Delivery.PENDING, next_attempt_at__lte=moment, webhook__active=True
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=moment))
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    claimed = [did for did in due if _claim(did, moment)]
    if not claimed:
        return 0
    rows = Delivery.objects.select_related("webhook").filter(pk__in=claimed)
    by_hook: dict[str, list[Delivery]] = {}
    for d in sorted(rows, key=lambda d: (d.next_attempt_at, d.id)):
        by_hook.setdefault(d.webhook_id, []).append(d)
    with ThreadPoolExecutor(max_workers=min(SENDERS, len(by_hook))) as pool:
        rounds = list(pool.map(_send_in_order, by_hook.values()))
    sent = 0
    for results, unsent in rounds:
        for delivery, outcome in results:
            _record(delivery, outcome)
            sent += 1
        if unsent:
            Delivery.objects.filter(pk__in=[d.id for d in unsent]).update(claimed_until=None)
    return sent


def _send_in_order(
    deliveries: list[Delivery],
) -> tuple[list[tuple[Delivery, Outcome]], list[Delivery]]:
    """Send one webhook's deliveries in order until one fails (no database work here)."""
    results: list[tuple[Delivery, Outcome]] = []
    for i, delivery in enumerate(deliveries):
        outcome = _send(delivery)
        results.append((delivery, outcome))
        if not outcome.delivered:
            return results, deliveries[i + 1 :]
    return results, []


def _send(delivery: Delivery) -> Outcome:
    hook = delivery.webhook
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "kith-webhooks/1",
        "X-Kith-Event": delivery.event,
        "X-Kith-Delivery": delivery.id,
        "X-Kith-Signature": sign(hook.secret, int(time.time()), body),
    }
    return post(hook.url, body, headers)


def attempt(delivery: Delivery) -> Attempt:
    """Send one delivery now and record the attempt; schedule a retry if it failed."""
    return _record(delivery, _send(delivery))


def _record(delivery: Delivery, outcome: Outcome) -> Attempt:
    now = clock.now()
    with transaction.atomic():
        log = Attempt.objects.create(
            delivery=delivery,
            at=now,
            status_code=outcome.status_code,
            error=outcome.error[:500],
            duration_ms=outcome.duration_ms,
        )
        delivery.attempts += 1
        delivery.claimed_until = None
        # its webhook may have been deactivated while the request was out: then it stays
        # cancelled (the in-memory status read before sending would put it back in the queue)
        current = Delivery.objects.filter(pk=delivery.pk).values_list("status", flat=True)
        if current.first() == Delivery.CANCELLED:
            delivery.status = Delivery.CANCELLED
        if outcome.delivered:
            delivery.status = Delivery.DELIVERED
            delivery.delivered_at = now
        elif delivery.status == Delivery.CANCELLED:
            pass
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
