"""Every change of a webhook, and every redelivery, reaches the admins' audit log."""

from __future__ import annotations

import pytest

from kith.core.context import acting_as, from_ip
from kith.core.errors import NotFound, ValidationError
from kith.core.models import AuditEvent
from kith.server.tests.conftest import Caller
from kith.testing import make_person
from kith.webhooks import services
from kith.webhooks.models import Delivery

URL = "http://127.0.0.1:9/in"
ACTIONS = ["webhook.added", "webhook.changed", "webhook.deleted", "delivery.redelivered"]


def _log() -> list[tuple[str, str, str, str, dict[str, object]]]:
    """The webhook entries in the order written."""
    events = AuditEvent.objects.filter(action__in=ACTIONS).order_by("id")
    return [(e.action, e.actor, e.target, e.ip, e.detail) for e in events]


def test_the_services_audit_with_actor_and_address() -> None:
    with acting_as("ann@our.test"), from_ip("10.0.0.7"):
        hook, _ = services.add_webhook(url=URL, events=["record.created"])
        services.change_webhook(hook_id=hook.id, active=False)
        services.change_webhook(hook_id=hook.id, active=True, events=["*"])
        make_person("Jane")
        d = Delivery.objects.get()
        services.redeliver(delivery_id=d.id)
        services.delete_webhook(hook_id=hook.id)
    log = _log()
    assert {(actor, ip) for _, actor, _, ip, _ in log} == {("ann@our.test", "10.0.0.7")}
    assert [(action, target, detail) for action, _, target, _, detail in log] == [
        ("webhook.added", URL, {"id": hook.id, "events": ["record.created"]}),
        ("webhook.changed", URL, {"id": hook.id, "active": False}),
        ("webhook.changed", URL, {"id": hook.id, "events": ["*"], "active": True}),
        ("delivery.redelivered", hook.id, {"delivery": d.id, "event": "record.created"}),
        ("webhook.deleted", URL, {"id": hook.id}),
    ]


def test_a_refused_change_writes_no_entry() -> None:
    with pytest.raises(ValidationError):
        services.add_webhook(url="ftp://x", events=["*"])
    hook, _ = services.add_webhook(url=URL, events=["*"])
    with pytest.raises(ValidationError):
        services.change_webhook(hook_id=hook.id, url="nope")
    with pytest.raises(NotFound):
        services.delete_webhook(hook_id="whk_nope")
    with pytest.raises(NotFound):
        services.redeliver(delivery_id="dlv_nope")
    assert [entry[0] for entry in _log()] == ["webhook.added"]


def test_every_api_change_is_audited_with_the_callers_address(admin: Caller) -> None:
    code, hook = admin.call("POST", "/webhooks", {"url": URL, "events": ["record.created"]})
    assert code == 201
    assert admin.call("PATCH", f"/webhooks/{hook['id']}", {"active": False})[0] == 200
    with acting_as("ops@our.test"):  # outside a request: no address
        services.change_webhook(hook_id=hook["id"], active=True)
    make_person("Jane")
    d = Delivery.objects.get()
    assert admin.call("POST", f"/deliveries/{d.id}/redeliver")[0] == 200
    assert admin.call("DELETE", f"/webhooks/{hook['id']}")[0] == 204
    got = [(action, actor, ip) for action, actor, _, ip, _ in _log()]
    api = ("admin@our.test", "127.0.0.1")
    assert got == [
        ("webhook.added", *api),
        ("webhook.changed", *api),
        ("webhook.changed", "ops@our.test", ""),
        ("delivery.redelivered", *api),
        ("webhook.deleted", *api),
    ]
    # one entry per change: the handlers add none of their own
    _, page = admin.call("GET", "/audit", action="webhook.added")
    assert len(page["items"]) == 1
