"""Reads of webhooks and their deliveries with every attempt."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from kith.core.paging import keyset
from kith.webhooks.models import Attempt, Delivery, Webhook


def webhook_view(hook: Webhook) -> dict[str, Any]:
    return {
        "id": hook.id,
        "url": hook.url,
        "events": hook.events,
        "active": hook.active,
        "created_by": hook.created_by,
        "created_at": hook.created_at.isoformat(),
    }


def list_webhooks() -> list[dict[str, Any]]:
    return [webhook_view(h) for h in Webhook.objects.order_by("created_at", "id")]


def delivery_view(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "webhook": d.webhook_id,
        "event": d.event,
        "status": d.status,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at.isoformat() if d.status == "pending" else None,
        "created_at": d.created_at.isoformat(),
        "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
        "payload": d.payload,
        "attempt_log": [
            {
                "at": a.at.isoformat(),
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
            }
            for a in d.attempt_log.all()
        ],
    }


def delivery_detail(delivery_id: str) -> dict[str, Any]:
    """One delivery with its attempts, as stored now."""
    return delivery_view(Delivery.objects.prefetch_related("attempt_log").get(pk=delivery_id))


def deliveries_page(
    *,
    hook_id: str | None = None,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    """Deliveries, newest first, with their attempts."""
    qs = Delivery.objects.prefetch_related(
        Prefetch("attempt_log", queryset=Attempt.objects.order_by("at", "id"))
    )
    if hook_id:
        qs = qs.filter(webhook_id=hook_id)
    if status:
        qs = qs.filter(status=status)
    rows, nxt = keyset(qs, field="created_at", desc=True, cursor=cursor, limit=limit)
    return [delivery_view(d) for d in rows], nxt
