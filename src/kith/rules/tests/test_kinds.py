"""The trigger and action kinds the other rule tests leave out, each through the worker's drain:
a saved list entered and left, a webhook delivered to a real loopback receiver, a
relationship started and ended by a rule, tags, and re-enrolment limits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kith.accounts.selectors import viewer_of
from kith.accounts.services import add_user
from kith.core import clock, worker
from kith.core.errors import ValidationError
from kith.lists.services import save_view
from kith.records.models import RecordType
from kith.records.selectors import tags_of
from kith.records.services import add_record, update_record
from kith.records.tags import tag_records
from kith.relationships.models import Relationship
from kith.rules import engine, scans
from kith.rules.models import RuleRun
from kith.rules.services import add_rule
from kith.testing import log, make_home, make_org, make_person
from kith.webhooks.models import Delivery
from kith.webhooks.services import add_webhook, delete_webhook
from kith.webhooks.tests.test_webhooks import Receiver


@pytest.fixture
def hook_receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _runs(name: str) -> list[tuple[str, str]]:
    return list(
        RuleRun.objects.filter(rule__name=name)
        .order_by("record_id")
        .values_list("record_id", "status")
    )


def test_a_record_entering_and_leaving_a_saved_list(deal_type: RecordType, make_rule: Any) -> None:
    user = add_user(email="ann@our.test", role="member", password="correct horse battery")[0]
    view = save_view(
        viewer=viewer_of(user), type_key="opportunity", name="Acme", query={"q": ["acme"]}
    )
    first = add_record(type_key="opportunity", name="Acme one")
    other = add_record(type_key="opportunity", name="Globex")
    for on in ("list.entered", "list.left"):
        make_rule(
            name=on.replace(".", "-"),
            trigger={"on": on, "list": view.pk},
            actions=[{"do": "log_note", "body": f"{on} {{{{ record.name }}}}"}],
        )
    assert scans.scan()["rules"] == {"list-entered": 0, "list-left": 0}  # the baseline
    update_record(ref=other.id, values={"name": "Acme two"})  # enters
    update_record(ref=first.id, values={"name": "Initech"})  # leaves
    assert scans.scan()["rules"] == {"list-entered": 1, "list-left": 1}
    engine.drain()
    assert _runs("list-entered") == [(other.id, "succeeded")]
    assert _runs("list-left") == [(first.id, "succeeded")]
    assert scans.scan()["rules"] == {"list-entered": 0, "list-left": 0}  # nothing moved


def test_a_webhook_action_is_delivered_by_the_worker(
    deal_type: RecordType, make_rule: Any, hook_receiver: Receiver
) -> None:
    hook, _secret = add_webhook(url=hook_receiver.url, events=["record.created"])
    make_rule(
        name="tell-erp",
        trigger={"on": "record.changed", "type": "opportunity", "field": "stage", "to": "won"},
        actions=[{"do": "webhook", "webhook": hook.id, "event": "deal.won"}],
    )
    deal = add_record(type_key="opportunity", name="Big", fields={"stage": "open"})
    update_record(ref=deal.id, values={"stage": "won"})
    engine.drain()
    run = RuleRun.objects.get(rule__name="tell-erp")
    assert run.status == "succeeded"
    delivery = Delivery.objects.get(pk=run.trace["actions"][0]["delivery"])
    worker.run_pending()  # the webhooks' sending job (and any periodic job due)
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    bodies = [json.loads(r["body"]) for r in hook_receiver.requests]
    [sent] = [b for b in bodies if b["event"] == "deal.won"]  # beside the hook's record.created
    assert sent["data"]["record_id"] == deal.id and sent["data"]["rule"] == "tell-erp"


def test_a_missing_webhook_fails_the_run_and_rolls_back_its_actions(
    deal_type: RecordType, make_rule: Any
) -> None:
    hook, _secret = add_webhook(url="https://example.test/hook", events=["record.created"])
    make_rule(
        name="gone",
        trigger={"on": "record.created", "type": "opportunity"},
        actions=[
            {"do": "set_field", "field": "next_step", "value": "x"},
            {"do": "webhook", "webhook": hook.id},
        ],
    )
    delete_webhook(hook_id=hook.id)  # after the rule was added
    deal = add_record(type_key="opportunity", name="D")
    engine.drain()
    run = RuleRun.objects.get()
    assert run.status == "failed" and f"no active webhook {hook.id!r}" in run.reason
    deal.refresh_from_db()
    assert "next_step" not in deal.fields
    assert not Delivery.objects.exists()


def test_rules_start_and_end_relationships_and_add_tags(make_rule: Any) -> None:
    home = make_home()
    acme = make_org("Acme")
    me = make_person("Me", email="me@our.test", org=home)
    jane = make_person("Jane", email="jane@x.test", org=acme)
    make_rule(
        name="introduce",
        trigger={"on": "relationship.started", "type": "works_at", "subject": "from"},
        conditions={"field": "type", "op": "eq", "value": "person"},
        actions=[{"do": "start_relationship", "type": "knows", "with": me.id, "role": "intro"}],
    )
    bob = make_person("Bob", email="bob@x.test", org=acme)
    engine.drain()
    knows = Relationship.objects.get(type__key="knows")
    assert {knows.from_record_id, knows.to_record_id} == {bob.id, me.id}
    assert knows.source == "rule:introduce"
    make_rule(
        name="offboard",
        trigger={"on": "record.changed", "type": "person", "field": "title"},
        conditions={"field": "title", "op": "eq", "value": "left"},
        actions=[{"do": "end_relationship", "type": "works_at", "with": acme.id}],
    )
    update_record(ref=jane.id, values={"title": "left"})
    engine.drain()
    rel = Relationship.objects.get(from_record=jane, type__key="works_at")
    assert rel.until == clock.today()
    [run] = RuleRun.objects.filter(rule__name="offboard")
    assert run.trace["actions"][0]["relationships"] == [rel.id]


def test_add_tag_adds_once(deal_type: RecordType, make_rule: Any) -> None:
    make_rule(
        name="tagger",
        trigger={"on": "record.changed", "type": "opportunity", "field": "stage"},
        actions=[{"do": "add_tag", "tag": "Moved"}],
    )
    deal = add_record(type_key="opportunity", name="D", fields={"stage": "open"})
    tag_records(records=[deal], tags=["vip"])
    update_record(ref=deal.id, values={"stage": "won"})
    update_record(ref=deal.id, values={"stage": "lost"})
    engine.drain()
    assert tags_of([deal.id]) == {deal.id: ["Moved", "vip"]}  # the records' one tag table
    traces = [r.trace["actions"][0] for r in RuleRun.objects.order_by("started_at", "id")]
    assert [t.get("already", False) for t in traces] == [False, True]


@pytest.mark.parametrize(
    ("reenrol", "statuses"),
    [
        ("always", ["succeeded", "succeeded", "succeeded"]),
        ("never", ["succeeded", "skipped", "skipped"]),
        ({"after_days": 7}, ["succeeded", "skipped", "succeeded"]),
    ],
)
def test_reenrolment_per_rule(
    deal_type: RecordType, make_rule: Any, time_travel: Any, reenrol: Any, statuses: list[str]
) -> None:
    make_rule(
        name="once",
        trigger={"on": "record.changed", "type": "opportunity", "field": "stage"},
        actions=[{"do": "log_note", "body": "moved"}],
        limits={"reenrol": reenrol},
    )
    deal = add_record(type_key="opportunity", name="D", fields={"stage": "open"})
    for stage, days in (("won", 0), ("lost", 1), ("open", 7)):
        time_travel.advance(days=days)
        update_record(ref=deal.id, values={"stage": stage})
        engine.drain()
    runs = list(RuleRun.objects.order_by("started_at").values_list("status", "reason"))
    assert [s for s, _ in runs] == statuses
    for status, reason in runs:
        if status == "skipped":
            assert reason.startswith("re-enrolment: ")


def test_add_tag_needs_no_field_and_kith_type_field_adds_one(cli: Any) -> None:
    make_home()
    doc = {
        "name": "tag-new",
        "trigger": {"on": "record.created", "type": "person"},
        "actions": [{"do": "add_tag", "tag": "new"}],
    }
    assert add_rule(doc=doc).name == "tag-new"  # tags are records' own, not a field
    person = make_person("Tagged", email="tagged@x.test")
    engine.drain()
    assert tags_of([person.id]) == {person.id: ["new"]}
    with pytest.raises(ValidationError) as info:
        add_rule(doc={**doc, "name": "bad", "actions": [{"do": "add_tag", "tag": "a,b"}]})
    assert "a tag has no commas" in info.value.message
    code, out, err = cli("type", "field", "person", "tags:text", "--json")
    assert code == 0, err
    assert {"name": "tags", "kind": "text"}.items() <= next(
        f for f in json.loads(out)["fields"] if f["name"] == "tags"
    ).items()
    code, _, err = cli("type", "field", "person", "tags:text")
    assert (code, err.strip()) == (1, "error: --field: person already has a field 'tags'")


def test_draining_interaction_events_reads_do_not_grow_with_the_events(make_rule: Any) -> None:
    home = make_home()
    me = make_person("Me", email="me@our.test", org=home)
    make_rule(
        name="vip-calls",
        trigger={"on": "interaction.logged", "kind": "call", "type": "person"},
        conditions={"field": "name", "op": "starts_with", "value": "VIP"},
        actions=[{"do": "log_note", "body": "x"}],
    )

    def drained(n: int, start: int) -> int:
        for i in range(start, start + n):
            person = make_person(f"P{i}", email=f"p{i}@x.test")
            log("call", me, person, links=(make_org(f"Org {i}"),))
        with CaptureQueriesContext(connection) as ctx:
            assert engine.drain() == n
        return len(ctx.captured_queries)

    assert drained(2, 0) == drained(8, 2)  # the subjects are read for the batch at once
    runs = RuleRun.objects.filter(rule__name="vip-calls")
    assert runs.count() == 10  # one per person: not our Me, not the organisations
    assert set(runs.values_list("status", "reason")) == {("skipped", "conditions not met")}
