"""Rules end to end: validation, matching at write time, runs with traces in the worker."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from kith.accounts.services import add_owned_record, add_user
from kith.core import clock, worker
from kith.core.errors import KithError, ValidationError
from kith.core.models import AuditEvent, Change
from kith.core.viewer import SYSTEM
from kith.intelligence.bands import track_bands
from kith.intelligence.models import BandState
from kith.interactions.models import Interaction
from kith.notifications.models import Notification
from kith.records.models import Record, RecordType
from kith.records.selectors import tags_of
from kith.records.services import add_record, update_record
from kith.relationships.services import end_relationship
from kith.rules import engine, matching, scans, selectors
from kith.rules import jobs as rule_jobs
from kith.rules.models import Rule, RuleEvent, RuleRun
from kith.rules.services import add_rule, set_enabled
from kith.tasks.models import Task
from kith.testing import log, make_home, make_org, make_person


def _error(doc: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as info:
        add_rule(doc=doc)
    return info.value.message


BASE = {
    "name": "x",
    "trigger": {"on": "record.created"},
    "actions": [{"do": "log_note", "body": "hi"}],
}


def test_every_part_is_validated_before_anything_is_stored(deal_type: RecordType) -> None:
    assert _error({**BASE, "trigger": {"on": "record.chnged"}}).startswith(
        "trigger.on: unknown trigger 'record.chnged'"
    )
    assert _error({**BASE, "trigger": {"on": "record.changed", "field": "colour"}}).startswith(
        "trigger.field: unknown field 'colour'"
    )
    cond = {
        "all": [
            {"field": "type", "op": "eq", "value": "opportunity"},
            {"field": "stage", "op": "equals", "value": "won"},
        ]
    }
    assert _error({**BASE, "conditions": cond}).startswith(
        "conditions.all[1].op: unknown operator 'equals'"
    )
    assert _error({**BASE, "actions": [{"do": "sms"}]}).startswith(
        "actions[0].do: unknown action 'sms'"
    )
    assert _error(
        {**BASE, "actions": [{"do": "set_field", "field": "amount", "value": "lots"}]}
    ).startswith("actions[0].value: 'lots' is not a number")
    assert "never fires" in _error(
        {
            **BASE,
            "trigger": {
                "on": "schedule",
                "rrule": "FREQ=DAILY;COUNT=2",
                "start": "2020-01-01T09:00Z",
                "type": "opportunity",
            },
        }
    )
    assert _error(
        {**BASE, "trigger": {"on": "schedule", "rrule": "FREQ=SOMETIMES", "type": "opportunity"}}
    ).startswith("trigger.rrule: 'FREQ=SOMETIMES' is not a valid RRULE")
    assert _error({**BASE, "actions": [{"do": "log_note", "body": "{{ recrd.name }}"}]}).startswith(
        "actions[0].body: unknown placeholder"
    )
    assert _error({**BASE, "limits": {"max_depth": 9}}).startswith("limits.max_depth")
    assert not Rule.objects.exists()


def test_a_cycle_of_rules_is_refused(deal_type: RecordType) -> None:
    add_rule(
        doc={
            "name": "a",
            "trigger": {"on": "record.changed", "type": "opportunity", "field": "stage"},
            "actions": [{"do": "set_field", "field": "next_step", "value": "x"}],
        }
    )
    message = _error(
        {
            "name": "b",
            "trigger": {"on": "record.changed", "type": "opportunity", "field": "next_step"},
            "actions": [
                {"do": "log_note", "body": "n"},
                {"do": "set_field", "field": "stage", "value": "won"},
            ],
        }
    )
    assert message.startswith("actions[1]: a cycle of rules: b -> a -> b")
    assert _error(
        {
            "name": "self",
            "trigger": {"on": "record.changed", "field": "tags"},
            "actions": [{"do": "add_tag", "tag": "seen"}],
        }
    ).startswith("actions[0]: a cycle of rules: self -> self")


def test_a_change_fires_the_rule_in_the_worker_with_a_trace(
    deal_type: RecordType, make_rule: Any
) -> None:
    rule = make_rule(
        name="won-deal",
        trigger={"on": "record.changed", "type": "opportunity", "field": "stage", "to": "won"},
        conditions={"field": "amount", "op": "gte", "value": 1000},
        actions=[{"do": "set_field", "field": "next_step", "value": "Thank {{ record.name }}"}],
    )
    deal = add_record(type_key="opportunity", name="Big", fields={"stage": "open", "amount": 5000})
    small = add_record(type_key="opportunity", name="Small", fields={"stage": "open", "amount": 10})
    update_record(ref=small.id, values={"stage": "won"})
    update_record(ref=deal.id, values={"amount": 6000})  # not the stage: no event queued
    assert RuleEvent.objects.count() == 1
    update_record(ref=deal.id, values={"stage": "won"})
    assert RuleRun.objects.count() == 0  # nothing runs at write time
    assert engine.drain() == 2
    deal.refresh_from_db()
    assert deal.fields["next_step"] == "Thank Big"
    ok = RuleRun.objects.get(record_id=deal.id)
    assert ok.status == "succeeded"
    assert ok.trace["conditions"][0] == {
        "path": "conditions",
        "field": "amount",
        "op": "gte",
        "actual": 6000.0,
        "value": 1000.0,
        "result": True,
    }
    assert ok.trace["actions"][0]["to"] == "Thank Big"
    skipped = RuleRun.objects.get(record_id=small.id)
    assert (skipped.status, skipped.reason) == ("skipped", "conditions not met")
    change = Change.objects.filter(entity_id=deal.id, field="fields.next_step").get()
    assert change.actor == "rule:won-deal"  # history names the rule
    assert AuditEvent.objects.filter(action="rule.ran", target="won-deal").count() == 1
    assert rule.id in ok.rule_id


def test_actions_are_all_or_nothing(deal_type: RecordType, make_rule: Any) -> None:
    make_rule(
        name="half",
        trigger={"on": "record.created", "type": "opportunity"},
        actions=[
            {"do": "set_field", "field": "next_step", "value": "first"},
            {"do": "start_relationship", "type": "knows", "with": "Nobody At All"},
        ],
    )
    deal = add_record(type_key="opportunity", name="D")
    engine.drain()
    deal.refresh_from_db()
    assert "next_step" not in deal.fields  # the first action rolled back with the second
    run = RuleRun.objects.get()
    assert run.status == "failed"
    assert "no record matches 'Nobody At All'" in run.reason
    assert [a["status"] for a in run.trace["actions"]] == ["done", "failed"]
    assert run.trace["rolled_back"] is True
    failed = selectors.runs(SYSTEM, "half", failed=True)
    assert [r["id"] for r in failed] == [run.id]


def test_depth_stops_a_chain(deal_type: RecordType) -> None:
    r = add_rule(
        doc={
            "name": "bump",
            "trigger": {"on": "record.changed", "type": "opportunity", "field": "next_step"},
            "actions": [{"do": "log_note", "body": "x"}],
            "limits": {"max_depth": 1},
        }
    )
    Rule.objects.filter(pk=r.pk).update(
        spec={
            **r.spec,
            "actions": [
                {"do": "set_field", "field": "next_step", "value": "{{ record.fields.next_step }}x"}
            ],
        }
    )
    matching.forget()
    deal = add_record(type_key="opportunity", name="D", fields={"amount": 1})
    update_record(ref=deal.id, values={"next_step": "go"})
    engine.drain()
    rows = list(RuleRun.objects.order_by("depth").values_list("depth", "status", "reason"))
    assert [(d, s) for d, s, _ in rows] == [(0, "succeeded"), (1, "succeeded"), (2, "skipped")]
    assert rows[2][2].startswith("depth: caused by bump -> bump (2 > max_depth 1)")


def test_a_champion_leaving_the_account_is_one_rule(make_rule: Any) -> None:
    make_home()
    acme = make_org("Acme")
    jane = make_person("Jane", org=acme, role="Champion", since="2025-01-01")
    bob = make_person("Bob", org=acme, role="Engineer", since="2025-01-01")
    make_rule(
        name="champion-left",
        trigger={"on": "relationship.ended", "type": "works_at", "role": "champion"},
        actions=[
            {
                "do": "log_note",
                "subject": "Champion left",
                "body": "{{ record.name }} lost its champion",
            }
        ],
    )
    for person in (jane, bob):
        rel = person.outgoing.get()
        end_relationship(rel_id=rel.id, on="2026-01-01")
    engine.drain()
    run = RuleRun.objects.get()
    assert (run.record_id, run.status) == (acme.id, "succeeded")
    note = Interaction.objects.get(pk=run.trace["actions"][0]["interaction"])
    assert note.body == "Acme lost its champion"
    assert note.source == "rule:champion-left"


def test_interaction_trigger_and_limits(make_rule: Any) -> None:
    make_home()
    acme = make_org("Acme")
    jane = make_person("Jane", org=acme)
    make_rule(
        name="sad-call",
        trigger={
            "on": "interaction.logged",
            "kind": "call",
            "sentiment": "negative",
            "type": "person",
        },
        actions=[{"do": "log_note", "body": "follow up {{ record.name }}"}],
        limits={"per_record": {"max": 1, "per_hours": 24}},
    )
    log("call", jane, sentiment=-0.8)
    log("call", jane, sentiment=0.9)  # positive: not queued
    log("email", jane, sentiment=-0.8)  # not a call
    log("call", jane, sentiment=-0.5)
    assert RuleEvent.objects.count() == 2
    engine.drain()
    assert sorted(RuleRun.objects.values_list("status", flat=True)) == ["skipped", "succeeded"]
    assert RuleRun.objects.get(status="skipped").reason.startswith("rate limit: 1 runs for")


def test_time_out_is_reported_never_left_running(deal_type: RecordType, make_rule: Any) -> None:
    rule = make_rule(name="slow", trigger={"on": "record.created", "type": "opportunity"})
    now = clock.now()
    stuck = RuleRun.objects.create(
        id="run_stuck",
        rule=rule,
        trigger="record.created",
        started_at=now - dt.timedelta(minutes=5),
        deadline_at=now - dt.timedelta(minutes=4),
    )
    [view] = selectors.runs(SYSTEM, "slow")
    assert view["status"] == "timed_out"
    assert [r["id"] for r in selectors.runs(SYSTEM, "slow", failed=True)] == [stuck.id]
    assert scans.scan()["timed_out"] == 1
    stuck.refresh_from_db()
    assert stuck.status == "timed_out"


def test_disabled_rules_do_not_match(deal_type: RecordType, make_rule: Any) -> None:
    make_rule(name="off", trigger={"on": "record.created", "type": "opportunity"})
    set_enabled(ref="off", enabled=False)
    add_record(type_key="opportunity", name="D")
    assert not RuleEvent.objects.exists()
    set_enabled(ref="off", enabled=True)
    add_record(type_key="opportunity", name="E")
    assert RuleEvent.objects.count() == 1


def test_no_contact_scan_fires_once_per_silence(time_travel: Any, make_rule: Any) -> None:
    make_home()
    me = make_person("Me", email="me@our.test", org=Record.objects.get(name="Our Co"))
    jane = make_person("Jane", email="jane@x.test")
    quiet = make_person("Quiet", email="q@x.test")
    log("call", me, jane, at="2026-04-01T10:00Z", direction="out")
    log("call", me, quiet, at="2026-06-10T10:00Z", direction="out")
    make_rule(
        name="silent",
        trigger={"on": "no_contact", "days": 30},
        actions=[{"do": "log_note", "body": "no contact with {{ record.name }}"}],
    )
    out = scans.scan()
    assert out["rules"] == {"silent": 1}
    engine.drain()
    assert list(RuleRun.objects.values_list("record_id", "status")) == [(jane.id, "succeeded")]
    assert scans.scan()["rules"] == {"silent": 0}  # the same silence fires once


def test_date_offset_scan(time_travel: Any, deal_type: RecordType, make_rule: Any) -> None:
    due = add_record(type_key="opportunity", name="Renews", fields={"renewal": "2026-07-15"})
    add_record(type_key="opportunity", name="Later", fields={"renewal": "2026-08-15"})
    make_rule(
        name="renewal-30",
        trigger={"on": "date_offset", "type": "opportunity", "field": "renewal", "days": -30},
        actions=[{"do": "set_field", "field": "next_step", "value": "renewal call"}],
    )
    assert scans.scan()["rules"] == {"renewal-30": 1}
    engine.drain()
    due.refresh_from_db()
    assert due.fields["next_step"] == "renewal call"
    time_travel.advance(days=1)
    assert scans.scan()["rules"] == {"renewal-30": 0}


def test_schedule_scan(time_travel: Any, deal_type: RecordType, make_rule: Any) -> None:
    add_record(type_key="opportunity", name="Open", fields={"stage": "open"})
    add_record(type_key="opportunity", name="Won", fields={"stage": "won"})
    make_rule(
        name="weekly",
        trigger={
            "on": "schedule",
            "rrule": "FREQ=DAILY;BYHOUR=9",
            "start": "2026-06-01T09:00Z",
            "type": "opportunity",
        },
        conditions={"field": "stage", "op": "eq", "value": "open"},
    )
    assert scans.scan()["rules"] == {"weekly": 0}  # next 09:00 is tomorrow
    time_travel.advance(days=1)
    assert scans.scan()["rules"] == {"weekly": 1}
    assert scans.scan()["rules"] == {"weekly": 0}


def test_test_record_says_why(deal_type: RecordType, make_rule: Any, cli: Any) -> None:
    make_rule(
        name="big",
        trigger={"on": "record.created", "type": "opportunity"},
        conditions={
            "all": [
                {"field": "amount", "op": "gt", "value": 100},
                {"field": "stage", "op": "eq", "value": "open"},
            ]
        },
    )
    deal = add_record(type_key="opportunity", name="Tiny", fields={"amount": 5, "stage": "open"})
    code, out, err = cli("rule", "test", "big", "--record", deal.id, "--json")
    assert code == 0, err
    view = json.loads(out)
    assert view["would_fire"] is False
    assert view["why_not"] == ["conditions not met (conditions.all[0])"]
    assert view["conditions"]["steps"][0]["actual"] == 5.0
    code, out, _ = cli("rule", "test", "big", "--record", deal.id)
    assert "would NOT fire" in out


def test_replay_history(deal_type: RecordType, make_rule: Any, cli: Any) -> None:
    add_record(type_key="opportunity", name="A", fields={"amount": 500})
    add_record(type_key="opportunity", name="B", fields={"amount": 5})
    make_rule(
        name="big",
        trigger={"on": "record.created", "type": "opportunity"},
        conditions={"field": "amount", "op": "gt", "value": 100},
    )
    code, out, err = cli("rule", "test", "big", "--since", "90d", "--json")
    assert code == 0, err
    view = json.loads(out)
    assert view["would_fire"] == 1
    assert view["firings"][0]["record"]["name"] == "A"
    assert not RuleRun.objects.exists()


def test_cli_add_list_enable_runs(deal_type: RecordType, cli: Any, tmp_path: Any) -> None:
    assert cli("rule", "list")[1].startswith("no rules yet")  # not an empty table
    assert json.loads(cli("rule", "list", "--json")[1]) == []
    path = tmp_path / "rule.yaml"
    path.write_text(
        "name: tag-new\n"
        "trigger: {on: record.created, type: opportunity}\n"
        "actions:\n  - {do: add_tag, tag: new}\n"
    )
    code, out, err = cli("rule", "add", "--file", str(path), "--json")
    assert code == 0, err
    assert json.loads(out)["name"] == "tag-new"
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "name": "b",
                "trigger": {"on": "record.created"},
                "conditions": {"field": "nope", "op": "eq", "value": 1},
                "actions": [{"do": "log_note", "body": "x"}],
            }
        )
    )
    code, out, err = cli("rule", "add", "--file", str(bad))
    assert code == 1
    assert "error: conditions.field: unknown field 'nope'" in err
    deal = add_record(type_key="opportunity", name="D")
    engine.drain()
    assert tags_of([deal.id]) == {deal.id: ["new"]}
    code, out, _ = cli("rule", "list", "--json")
    assert json.loads(out)[0]["runs"] == {"succeeded": 1}
    code, out, _ = cli("rule", "disable", "tag-new", "--json")
    assert json.loads(out)["enabled"] is False
    code, out, _ = cli("rule", "runs", "tag-new", "--json")
    assert json.loads(out)[0]["status"] == "succeeded"
    code, out, _ = cli("rule", "runs", "tag-new", "--failed", "--json")
    assert json.loads(out) == []
    assert cli("rule", "runs", "tag-new", "--failed")[1].strip() == "no runs"


def test_a_failed_command_changes_nothing(deal_type: RecordType) -> None:
    with pytest.raises(KithError):
        add_rule(doc={**BASE, "name": "ok", "trigger": {"on": "record.created", "type": "nope"}})
    assert not Rule.objects.exists()


def test_events_run_through_the_worker(
    deal_type: RecordType, make_rule: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_rule(name="via-worker", trigger={"on": "record.created", "type": "opportunity"})
    rule_jobs._last_kick[0] = 0.0
    with django_capture_on_commit_callbacks(execute=True):
        deal = add_record(type_key="opportunity", name="W")
    outcome = worker.run_pending()  # the kicked drain, and the periodic jobs on first start
    assert outcome["failed"] == 0 and outcome["succeeded"] >= 1
    deal.refresh_from_db()
    assert deal.fields["next_step"] == "call"
    assert RuleEvent.objects.get().status == "done"


def test_a_task_per_rule_and_record_is_updated_not_duplicated(
    deal_type: RecordType, make_rule: Any
) -> None:
    add_user(email="ann@our.test", role="member", password="correct horse battery")
    make_rule(
        name="follow-up",
        trigger={"on": "record.changed", "type": "opportunity", "field": "stage"},
        actions=[
            {
                "do": "create_task",
                "title": "Follow up {{ record.name }}",
                "owner": "ann@our.test",
                "due_in_days": 2,
            }
        ],
    )
    deal = add_record(type_key="opportunity", name="Acme deal", fields={"stage": "open"})
    update_record(ref=deal.id, values={"stage": "won"})
    update_record(ref=deal.id, values={"stage": "lost"})
    engine.drain()
    assert Task.objects.count() == 1  # the second run updated the open task (dedupe key)
    task = Task.objects.get()
    assert (task.title, task.source, task.owner.username) == (
        "Follow up Acme deal",
        "rule",
        "ann@our.test",
    )
    assert [r.status for r in RuleRun.objects.all()] == ["succeeded", "succeeded"]


def test_nothing_for_a_user_who_cannot_see_the_record(
    deal_type: RecordType, make_rule: Any
) -> None:
    owner = add_user(email="own@our.test", role="member", password="correct horse battery")[0]
    add_user(email="ann@our.test", role="member", password="correct horse battery")
    make_rule(
        name="tell-ann",
        trigger={"on": "record.changed", "type": "opportunity", "field": "stage"},
        actions=[
            {"do": "create_task", "title": "Look at {{ record.name }}", "owner": "ann@our.test"}
        ],
    )
    secret = add_owned_record(user=owner, private=True, type_key="opportunity", name="Secret deal")
    update_record(ref=secret.id, values={"stage": "won"})
    engine.drain()
    run = RuleRun.objects.get()
    assert run.status == "succeeded"
    assert run.trace["actions"][0]["status"] == "skipped"
    assert (
        run.trace["actions"][0]["reason"]
        == f"ann@our.test cannot see {secret.id}; nothing was sent to them"
    )
    assert not Task.objects.exists()


def test_health_band_changes_are_events(time_travel: Any, make_rule: Any) -> None:
    home = make_home()
    me = make_person("Me", email="me@our.test", org=home)
    jane = make_person("Jane", email="jane@x.test")
    for day in range(1, 13):
        log("call", me, jane, at=f"2026-06-{day:02d}T10:00Z", direction="out")
    make_rule(
        name="cooling",
        trigger={"on": "health.band_changed", "type": "person"},
        actions=[
            {"do": "log_note", "body": "{{ record.name }}: {{ event.old }} -> {{ event.new }}"}
        ],
    )
    assert track_bands()["changed"] == 0  # the baseline
    before = BandState.objects.get(pk=jane.id).band
    time_travel.advance(days=400)
    moved = track_bands()
    assert moved["changed"] >= 1
    engine.drain()
    run = RuleRun.objects.get(record_id=jane.id)
    assert run.status == "succeeded"
    note = Interaction.objects.get(pk=run.trace["actions"][0]["interaction"])
    assert note.body == f"Jane: {before} -> {BandState.objects.get(pk=jane.id).band}"


def test_notify_and_email_respect_privacy(
    deal_type: RecordType, make_rule: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KITH_SMTP_URL", "smtp://127.0.0.1:2525")
    owner = add_user(email="own@our.test", role="member", password="correct horse battery")[0]
    add_user(email="ann@our.test", role="member", password="correct horse battery")
    make_rule(
        name="tell",
        trigger={"on": "record.changed", "type": "opportunity", "field": "stage"},
        actions=[
            {"do": "notify", "user": "ann@our.test", "title": "{{ record.name }} moved"},
            {"do": "notify", "user": "record.owner", "title": "{{ record.name }} moved"},
            {"do": "email", "to": "partner@outside.test", "subject": "{{ record.name }}"},
        ],
    )
    secret = add_owned_record(user=owner, private=True, type_key="opportunity", name="Secret deal")
    public = add_record(type_key="opportunity", name="Open deal")
    for deal in (secret, public):
        update_record(ref=deal.id, values={"stage": "won"})
    engine.drain()
    hidden = RuleRun.objects.get(record_id=secret.id).trace["actions"]
    assert [a["status"] for a in hidden] == ["skipped", "done", "skipped"]
    assert hidden[0]["reason"] == f"ann@our.test cannot see {secret.id}; nothing was sent to them"
    assert hidden[2]["reason"].endswith("is private; it is mailed only to users who can see it")
    shown = RuleRun.objects.get(record_id=public.id).trace["actions"]
    assert [a["status"] for a in shown] == ["done", "skipped", "done"]  # no owner to tell
    titles = sorted(Notification.objects.values_list("user__username", "title"))
    assert titles == [("ann@our.test", "Open deal moved"), ("own@our.test", "Secret deal moved")]
