"""New relationship types reach the admins' audit log from every interface."""

from __future__ import annotations

from typing import Any

import pytest

from kith.core.context import acting_as, from_ip
from kith.core.errors import Conflict
from kith.core.models import AuditEvent
from kith.relationships import services
from kith.server.tests.conftest import make_caller


def _entries() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="reltype.added").order_by("id"))


def test_add_type_is_audited_with_actor_and_address() -> None:
    with acting_as("ann@our.test"), from_ip("10.0.0.7"):
        services.add_type(
            name="mentors", inverse="mentored_by", from_types=["person"], to_types=["person"]
        )
        services.add_type(name="sibling_of", symmetric=True)
    mentors, siblings = _entries()
    assert (mentors.actor, mentors.target, mentors.ip) == ("ann@our.test", "mentors", "10.0.0.7")
    assert mentors.detail == {
        "inverse": "mentored_by",
        "symmetric": False,
        "from": ["person"],
        "to": ["person"],
    }
    assert siblings.target == "sibling_of" and siblings.detail["symmetric"] is True


def test_a_refused_type_writes_no_entry() -> None:
    services.add_type(name="mentors", inverse="mentored_by")
    with pytest.raises(Conflict):
        services.add_type(name="mentors", inverse="x")
    assert len(_entries()) == 1


def test_the_cli_and_the_api_audit_a_new_type(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITH_USER", "ops@our.test")
    code, _, err = cli("reltype", "add", "mentors", "--inverse", "mentored_by")
    assert code == 0, err
    admin = make_caller("admin@our.test", "admin")
    code, _ = admin.call("POST", "/relationship-types", {"name": "advises", "symmetric": True})
    assert code == 201
    by_cli, by_api = _entries()
    assert (by_cli.actor, by_cli.target, by_cli.ip) == ("ops@our.test", "mentors", "")
    assert (by_api.actor, by_api.target, by_api.ip) == ("admin@our.test", "advises", "127.0.0.1")
