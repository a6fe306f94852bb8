"""Admin: webhooks, their deliveries with every attempt, and the audit log."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from kith.accounts.selectors import audit_page
from kith.core.errors import KithError, ValidationError
from kith.core.parse import local_zone, parse_date
from kith.web.views.admin.forms import (
    AUDIT_ACTIONS,
    AUDIT_PAGE,
    DELIVERY_PAGE,
    Form,
    done,
    get_list,
    get_text,
    render,
)
from kith.web.views.base import signed_in
from kith.webhooks.outbox import EVENTS, OPTIONAL_EVENTS
from kith.webhooks.selectors import deliveries_page, list_webhooks, webhook_view
from kith.webhooks.services import add_webhook, change_webhook, delete_webhook, get_webhook
from kith.webhooks.services import redeliver as again

# -- webhooks and their deliveries ------------------------------------------------------------


def _events() -> list[str]:
    return ["*", *EVENTS, *OPTIONAL_EVENTS]


def _webhooks_ctx(new: Form | None = None) -> dict[str, Any]:
    return {
        "title": "Webhooks",
        "hooks": list_webhooks(),
        "events": _events(),
        "new": new or Form("webhook-new"),
    }


@signed_in("admin")
@require_http_methods(["GET", "POST"])
def webhooks_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "webhooks", _webhooks_ctx())

    data = request.POST
    form = Form("webhook-new", ("url", "events"), data)
    try:
        url = get_text(data, "url", max_len=500)
        events = get_list(data, "events", max_len=60, max_items=20)
        hook, secret = add_webhook(url=url, events=events)
    except KithError as exc:
        status = form.fail(exc)
        return render(request, "webhooks", _webhooks_ctx(form), status=status)
    shown = {
        "title": f"Webhook {hook.id} added",
        "label": "Signing secret (HMAC-SHA256 key for X-Kith-Signature)",
        "value": secret,
        "note": "Store it with the receiver now; it is shown only this once.",
    }
    return render(request, "webhooks", _webhooks_ctx(), secret=shown)


def _hook_change(request: HttpRequest, change: Callable[[], str]) -> HttpResponse:
    """Run one change of a webhook; an error (a wrong id) shows on the webhooks section."""
    try:
        notice = change()
    except KithError as exc:
        form = Form("webhook-new")
        status = form.fail(exc)
        return render(request, "webhooks", _webhooks_ctx(form), status=status)
    return done(request, "webhooks", _webhooks_ctx, notice, reverse("admin-webhooks"))


@signed_in("admin")
@require_POST
def webhook_active(request: HttpRequest, hook_id: str) -> HttpResponse:
    active = request.POST.get("active") == "1"

    def change() -> str:
        hook = change_webhook(hook_id=hook_id, active=active)
        return f"Webhook {hook.id} {'enabled' if active else 'disabled'}."

    return _hook_change(request, change)


@signed_in("admin")
@require_POST
def webhook_delete(request: HttpRequest, hook_id: str) -> HttpResponse:
    def change() -> str:
        delete_webhook(hook_id=hook_id)
        return f"Webhook {hook_id} deleted with its deliveries."

    return _hook_change(request, change)


def _deliveries_ctx(hook_id: str, query: QueryDict) -> tuple[dict[str, Any], int]:
    hook = webhook_view(get_webhook(hook_id))
    form = Form("deliveries", ("status",), query)
    items: list[dict[str, Any]] = []
    nxt, status = None, 200
    try:
        state = get_text(query, "status", max_len=10)
        if state not in ("", "pending", "delivered", "failed"):
            raise ValidationError(
                f"status: {state!r} is not pending, delivered or failed", field="status"
            )
        cursor = get_text(query, "cursor", max_len=500) or None
        items, nxt = deliveries_page(
            hook_id=hook["id"], status=state or None, cursor=cursor, limit=DELIVERY_PAGE
        )
    except KithError as exc:
        status = form.fail(exc)
    for d in items:
        d["payload_text"] = json.dumps(d["payload"], indent=2, sort_keys=True, ensure_ascii=False)
    ctx = {
        "title": f"Deliveries to {hook['url']}",
        "hook": hook,
        "deliveries": items,
        "next": nxt,
        "form": form,
    }
    return ctx, status


@signed_in("admin")
@require_http_methods(["GET"])
def deliveries(request: HttpRequest, hook_id: str) -> HttpResponse:
    ctx, status = _deliveries_ctx(hook_id, request.GET)
    return render(request, "deliveries", ctx, status=status)


@signed_in("admin")
@require_POST
def redeliver(request: HttpRequest, delivery_id: str) -> HttpResponse:
    d = again(delivery_id=delivery_id)
    hook_id = d.webhook_id
    return done(
        request,
        "deliveries",
        lambda: _deliveries_ctx(hook_id, QueryDict())[0],
        f"Delivery {d.id} is queued to be sent again now.",
        reverse("admin-webhook", args=[hook_id]),
    )


# -- audit log --------------------------------------------------------------------------------


@signed_in("admin")
@require_http_methods(["GET"])
def audit_log(request: HttpRequest) -> HttpResponse:
    form = Form("audit", ("action", "actor", "since"), request.GET)
    items: list[dict[str, Any]] = []
    nxt, status = None, 200
    try:
        action = get_text(request.GET, "action", max_len=40) or None
        actor = get_text(request.GET, "actor", max_len=254) or None
        day = parse_date(get_text(request.GET, "since", max_len=20), field="since")
        since = dt.datetime.combine(day, dt.time(), tzinfo=local_zone()) if day else None
        cursor = get_text(request.GET, "cursor", max_len=500) or None
        items, nxt = audit_page(
            action=action, actor=actor, since=since, cursor=cursor, limit=AUDIT_PAGE
        )
    except KithError as exc:
        status = form.fail(exc)
    for e in items:
        e["detail_text"] = ", ".join(f"{k}={_plain(v)}" for k, v in sorted(e["detail"].items()))
    ctx = {
        "title": "Audit log",
        "events": items,
        "next": nxt,
        "form": form,
        "actions": AUDIT_ACTIONS,
    }
    return render(request, "audit", ctx, status=status)


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
