"""JSON API for webhooks (admins): register URLs for events, see every delivery attempt."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kith.server.auth import acting, require
from kith.server.schemas import READ_ERRORS, WRITE_ERRORS
from kith.webhooks.selectors import deliveries_page, delivery_detail, webhook_view
from kith.webhooks.selectors import list_webhooks as hooks
from kith.webhooks.services import add_webhook as add
from kith.webhooks.services import change_webhook as change
from kith.webhooks.services import delete_webhook as delete
from kith.webhooks.services import get_webhook
from kith.webhooks.services import redeliver as again

router = Router(tags=["webhooks"])


class WebhookIn(Schema):
    url: str = Field(..., max_length=500)
    events: list[str] = Field(..., max_length=20, description="Event names, or * for all")


class WebhookPatch(Schema):
    url: str | None = Field(None, max_length=500)
    events: list[str] | None = Field(None, max_length=20)
    active: bool | None = None


class WebhookOut(Schema):
    id: str
    url: str
    events: list[str]
    active: bool
    created_by: str
    created_at: str


class WebhookCreated(WebhookOut):
    secret: str = Field(..., description="HMAC-SHA256 key for X-Kith-Signature, shown once")


class AttemptOut(Schema):
    at: str
    status_code: int | None = None
    error: str
    duration_ms: int


class DeliveryOut(Schema):
    id: str
    webhook: str
    event: str
    status: str
    attempts: int
    next_attempt_at: str | None = None
    created_at: str
    delivered_at: str | None = None
    payload: dict[str, Any]
    attempt_log: list[AttemptOut]


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None = None


class DeliveryFilters(Schema):
    status: str | None = Field(None, description="pending, delivered, failed or cancelled")
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=500)


@router.get("/webhooks", response={200: list[WebhookOut], **READ_ERRORS})
def list_webhooks(request: HttpRequest) -> Any:
    """Registered webhooks (admins)."""
    require(request, "admin")
    return hooks()


@router.post("/webhooks", response={201: WebhookCreated, **WRITE_ERRORS})
def add_webhook(request: HttpRequest, payload: WebhookIn) -> Any:
    """Register a URL for events; deliveries are signed with the returned secret (admins)."""
    with acting(request, "admin"):
        hook, secret = add(url=payload.url, events=payload.events)
    return Status(201, {**webhook_view(hook), "secret": secret})


@router.patch("/webhooks/{hook_id}", response={200: WebhookOut, **WRITE_ERRORS})
def change_webhook(request: HttpRequest, hook_id: str, payload: WebhookPatch) -> Any:
    """Change a webhook's URL, events or active flag (admins)."""
    with acting(request, "admin"):
        hook = change(
            hook_id=hook_id, url=payload.url, events=payload.events, active=payload.active
        )
    return webhook_view(hook)


@router.delete("/webhooks/{hook_id}", response={204: None, **WRITE_ERRORS})
def delete_webhook(request: HttpRequest, hook_id: str) -> Any:
    """Remove a webhook and its deliveries (admins)."""
    with acting(request, "admin"):
        delete(hook_id=hook_id)
    return Status(204, None)


@router.get("/webhooks/{hook_id}/deliveries", response={200: DeliveryPage, **READ_ERRORS})
def deliveries(request: HttpRequest, hook_id: str, filters: Query[DeliveryFilters]) -> Any:
    """A webhook's deliveries, newest first, with every attempt (admins)."""
    require(request, "admin")
    get_webhook(hook_id)
    items, nxt = deliveries_page(
        hook_id=hook_id, status=filters.status, cursor=filters.cursor, limit=filters.limit
    )
    return {"items": items, "next_cursor": nxt}


@router.post("/deliveries/{delivery_id}/redeliver", response={200: DeliveryOut, **WRITE_ERRORS})
def redeliver(request: HttpRequest, delivery_id: str) -> Any:
    """Send a delivery again now (admins)."""
    with acting(request, "admin"):
        d = again(delivery_id=delivery_id)
    return delivery_detail(d.pk)
