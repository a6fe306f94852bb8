"""Record types and their fields reach the admins' audit log from every interface."""

from __future__ import annotations

from typing import Any

import pytest

from kith.core.context import acting_as, from_ip
from kith.core.errors import Conflict
from kith.core.models import AuditEvent
from kith.records import services
from kith.server.tests.conftest import make_caller


def _entries(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_define_type_and_add_field_are_audited_with_actor_and_address() -> None:
    with acting_as("ann@our.test"), from_ip("10.0.0.7"):
        services.define_type(key="vendor", fields=(s for s in ["tier:text", "size:number"]))
        services.add_field(type_key="vendor", spec="region:choice:eu|us")
    [defined] = _entries("type.defined")
    assert (defined.actor, defined.target, defined.ip) == ("ann@our.test", "vendor", "10.0.0.7")
    assert defined.detail == {"label": "Vendor", "fields": ["tier:text", "size:number"]}
    # the fields a type is defined with are part of its one entry
    [added] = _entries("type.field_added")
    assert (added.actor, added.target, added.ip) == ("ann@our.test", "vendor", "10.0.0.7")
    assert added.detail == {"field": "region:choice:eu|us"}


def test_a_refused_change_writes_no_entry() -> None:
    services.define_type(key="vendor", fields=["tier:text"])
    with pytest.raises(Conflict):
        services.define_type(key="vendor")
    with pytest.raises(Conflict):
        services.add_field(type_key="vendor", spec="tier:text")
    assert len(_entries("type.defined")) == 1
    assert _entries("type.field_added") == []


def test_outside_a_request_the_address_is_empty() -> None:
    with acting_as("ann@our.test"):
        services.define_type(key="vendor")
    assert _entries("type.defined")[0].ip == ""


def test_the_cli_audits_a_new_type(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITH_USER", "ops@our.test")
    code, _, err = cli("type", "add", "vendor", "--field", "tier:text")
    assert code == 0, err
    [entry] = _entries("type.defined")
    assert (entry.actor, entry.target, entry.ip) == ("ops@our.test", "vendor", "")
    assert entry.detail["fields"] == ["tier:text"]


def test_the_api_audits_types_and_fields_with_the_callers_address() -> None:
    admin = make_caller("admin@our.test", "admin")
    code, _ = admin.call("POST", "/types", {"key": "vendor", "fields": ["tier:text"]})
    assert code == 201
    code, _ = admin.call("POST", "/types/vendor/fields", {"spec": "size:number"})
    assert code == 201
    for action in ("type.defined", "type.field_added"):
        [entry] = _entries(action)
        assert (entry.actor, entry.target, entry.ip) == ("admin@our.test", "vendor", "127.0.0.1")
