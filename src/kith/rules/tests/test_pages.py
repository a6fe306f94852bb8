"""The rule pages: the builder makes the JSON and the server checks it; runs show traces."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kith.accounts.selectors import get_user
from kith.accounts.services import add_user
from kith.records.models import RecordType
from kith.records.services import add_record
from kith.rules import engine
from kith.rules.models import Rule
from kith.web.tests.test_accessibility import check


@pytest.fixture
def admin(monkeypatch: pytest.MonkeyPatch) -> Client:
    monkeypatch.setenv("KITH_RATE_LIMIT", "0")
    add_user(email="boss@our.test", role="admin", password="correct horse battery")
    client = Client()
    client.force_login(get_user("boss@our.test"))
    return client


def test_builder_makes_a_rule_and_runs_show_traces(admin: Client, deal_type: RecordType) -> None:
    form: dict[str, Any] = {
        "name": "from-the-web",
        "trigger.on": "record.created",
        "trigger.type": "opportunity",
        "match": "all",
        "cond.0.field": "amount",
        "cond.0.op": "gte",
        "cond.0.value": "100",
        "action.0.do": "set_field",
        "action.0.options": "field=next_step; value=Call {{ record.name }}",
    }
    bad = admin.post("/rules/new", {**form, "cond.0.op": "equals"})
    assert bad.status_code == 400
    assert "conditions.all[0].op: unknown operator &#39;equals&#39;" in bad.content.decode()
    check(bad.content.decode(), "/rules/new (error)")
    assert not Rule.objects.exists()
    ok = admin.post("/rules/new", form)
    assert ok.status_code == 302, ok.content.decode()[:500]
    rule = Rule.objects.get()
    assert rule.spec["conditions"] == {"all": [{"field": "amount", "op": "gte", "value": 100}]}
    deal = add_record(type_key="opportunity", name="Web Deal", fields={"amount": 500})
    engine.drain()
    deal.refresh_from_db()
    assert deal.fields["next_step"] == "Call Web Deal"
    page = admin.get("/rules/from-the-web/runs").content.decode()
    assert "succeeded" in page and "&#34;actual&#34;: 500.0" in page
    check(page, "/rules/from-the-web/runs")
    listing = admin.get("/rules").content.decode()
    assert "from-the-web" in listing
    assert admin.post("/rules/from-the-web/toggle", {"enabled": "0"}).status_code == 302
    rule.refresh_from_db()
    assert rule.enabled is False


def test_members_may_not_manage_rules(deal_type: RecordType) -> None:
    add_user(email="m@our.test", role="member", password="correct horse battery")
    client = Client()
    client.force_login(get_user("m@our.test"))
    assert client.get("/rules").status_code == 403
