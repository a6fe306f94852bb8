"""Writes of webhook subscriptions; deliveries are written by the outbox."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from django.db import transaction

from kith.core import clock
from kith.core.context import current_actor
from kith.core.errors import NotFound, ValidationError
from kith.core.ids import new_id
from kith.core.services import audit, record_change
from kith.webhooks.models import Delivery, Webhook
from kith.webhooks.outbox import EVENTS, OPTIONAL_EVENTS, queue_send
from kith.webhooks.transport import check_url


def _check_events(events: Iterable[str]) -> list[str]:
    known = [*EVENTS, *OPTIONAL_EVENTS, "*"]
    out = []
    for e in events:
        name = (e or "").strip().lower()
        if name not in known:
            raise ValidationError(
                f"events: {e!r} is not an event ({', '.join(known)})", field="events"
            )
        if name not in out:
            out.append(name)
    if not out:
        raise ValidationError("events: name at least one event", field="events")
    return out


@transaction.atomic
def add_webhook(*, url: str, events: Iterable[str]) -> tuple[Webhook, str]:
    """Register a URL for events; returns it and its signing secret; audited."""
    secret = "whsec_" + secrets.token_urlsafe(24)
    hook = Webhook.objects.create(
        id=new_id("whk"),
        url=check_url(url),
        events=_check_events(events),
        secret=secret,
        created_by=current_actor(),
    )
    record_change(
        entity_id=hook.id,
        entity_kind="webhook",
        action="create",
        new={"url": hook.url, "events": hook.events},
    )
    audit("webhook.added", target=hook.url, detail={"id": hook.id, "events": hook.events})
    return hook, secret


def get_webhook(hook_id: str) -> Webhook:
    hook = Webhook.objects.filter(pk=(hook_id or "").strip()).first()
    if hook is None:
        raise NotFound(f"id: no webhook {hook_id!r}", field="id")
    return hook


@transaction.atomic
def change_webhook(
    *,
    hook_id: str,
    url: str | None = None,
    events: Iterable[str] | None = None,
    active: bool | None = None,
) -> Webhook:
    """Change a webhook's URL, events or active flag; audited."""
    hook = get_webhook(hook_id)
    before = {"url": hook.url, "events": hook.events, "active": hook.active}
    if url is not None:
        hook.url = check_url(url)
    if events is not None:
        hook.events = _check_events(events)
    if active is not None:
        hook.active = active
    hook.save()
    if active is False:  # what was queued for it must not go out after all
        Delivery.objects.filter(webhook=hook, status=Delivery.PENDING).update(
            status=Delivery.CANCELLED, claimed_until=None
        )
    after = {"url": hook.url, "events": hook.events, "active": hook.active}
    if after != before:
        record_change(
            entity_id=hook.id, entity_kind="webhook", action="update", old=before, new=after
        )
    asked = {"url": url, "events": events, "active": active}
    detail = {k: v for k, v in after.items() if asked[k] is not None}
    audit("webhook.changed", target=hook.url, detail={"id": hook.id, **detail})
    return hook


@transaction.atomic
def delete_webhook(*, hook_id: str) -> None:
    """Remove a webhook and its deliveries; audited."""
    hook = get_webhook(hook_id)
    record_change(entity_id=hook.id, entity_kind="webhook", action="delete")
    audit("webhook.deleted", target=hook.url, detail={"id": hook.id})
    hook.delete()


@transaction.atomic
def redeliver(*, delivery_id: str) -> Delivery:
    """Queue a delivery to be sent again now (after it failed or to replay it); audited."""
    d = Delivery.objects.filter(pk=(delivery_id or "").strip()).first()
    if d is None:
        raise NotFound(f"id: no delivery {delivery_id!r}", field="id")
    d.status = Delivery.PENDING
    d.next_attempt_at = clock.now()
    d.claimed_until = None
    d.save(update_fields=["status", "next_attempt_at", "claimed_until"])
    audit("delivery.redelivered", target=d.webhook_id, detail={"delivery": d.id, "event": d.event})

    queue_send()  # the worker sends it once this commits
    return d
