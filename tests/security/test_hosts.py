"""Kith answers only to the host names it is configured for (loopback by default, plus the
address `kith serve` binds to), and sends HSTS on HTTPS responses."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, override_settings

from kith.conf import LOOPBACK_HOSTS, server_settings
from kith.core.errors import ValidationError
from kith.server.serve import allow_host


def test_the_default_is_loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KITH_ALLOWED_HOSTS", raising=False)
    assert server_settings()["ALLOWED_HOSTS"] == list(LOOPBACK_HOSTS)
    monkeypatch.setenv("KITH_ALLOWED_HOSTS", "crm.example.com, crm.internal")
    assert server_settings()["ALLOWED_HOSTS"] == ["crm.example.com", "crm.internal"]


@override_settings(ALLOWED_HOSTS=[*LOOPBACK_HOSTS, "testserver"])
def test_a_foreign_host_header_is_refused() -> None:
    assert Client(HTTP_HOST="evil.example").get("/login").status_code == 400
    assert Client(HTTP_HOST="127.0.0.1:8000").get("/login").status_code == 200


@override_settings(ALLOWED_HOSTS=list(LOOPBACK_HOSTS))
def test_serve_adds_its_bind_address_and_refuses_a_wildcard_without_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KITH_ALLOWED_HOSTS", raising=False)
    allow_host("10.1.2.3")
    allow_host("fd00::5")
    assert {"10.1.2.3", "[fd00::5]"} <= set(settings.ALLOWED_HOSTS)
    with pytest.raises(ValidationError) as err:
        allow_host("0.0.0.0")
    assert err.value.field == "host" and "KITH_ALLOWED_HOSTS" in err.value.message
    monkeypatch.setenv("KITH_ALLOWED_HOSTS", "crm.example.com")
    allow_host("0.0.0.0")  # the names are configured: fine


def test_hsts_on_https_only() -> None:
    secure = Client().get("/login", secure=True)
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in Client().get("/login")
