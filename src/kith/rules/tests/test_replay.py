"""``kith rule test RULE --since`` for time-based rules: what the periodic scan would have
done over the period, worked out from the history, and nothing written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kith.accounts.selectors import viewer_of
from kith.accounts.services import add_user
from kith.core.errors import ValidationError
from kith.core.viewer import SYSTEM
from kith.lists.services import save_view
from kith.records.models import Record, RecordType
from kith.records.services import add_record
from kith.rules import engine, scans, selectors
from kith.rules.models import RuleRun
from kith.testing import log, make_home, make_person


def _fired(out: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["at"][:10], f["record"]["name"]) for f in out["firings"]]


def test_no_contact_replay_fires_once_per_silence_on_the_day_the_scan_would(
    time_travel: Any, make_rule: Any
) -> None:
    make_home()
    me = make_person("Me", email="me@our.test", org=Record.objects.get(name="Our Co"))
    jane = make_person("Jane", email="jane@x.test")
    bob = make_person("Bob", email="bob@x.test")
    make_person("Never", email="never@x.test")  # no contact at all: no silence to end
    for day in ("2026-03-01", "2026-04-20", "2026-05-01"):  # gaps of 50 and 11 days
        log("call", me, jane, at=f"{day}T10:00Z", direction="out")
    log("call", me, bob, at="2026-06-10T10:00Z", direction="out")  # 5 days ago
    make_rule(
        name="silent",
        trigger={"on": "no_contact", "days": 30},
        actions=[{"do": "log_note", "body": "no contact with {{ record.name }}"}],
    )
    with CaptureQueriesContext(connection) as ctx:
        out = selectors.replay(SYSTEM, "silent", days=120)  # from 2026-02-15
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in ctx.captured_queries)
    # Jane: silent after 03-01 (fires 04-01, 31 days on) and after 05-01 (fires 06-01)
    assert _fired(out) == [("2026-04-01", "Jane"), ("2026-06-01", "Jane")]
    assert out["firings"][0]["trigger"] == {"last_two_way": "2026-03-01", "days": 30}
    assert out["firings"][0]["actions"][0]["body"] == "no contact with Jane"
    assert (out["events"], out["would_fire"]) == (2, 2)
    assert not RuleRun.objects.exists()
    # the scan today agrees on the silence still running
    assert scans.scan()["rules"] == {"silent": 1}
    engine.drain()
    assert list(RuleRun.objects.values_list("record_id", flat=True)) == [jane.id]
    assert selectors.replay(SYSTEM, "silent", days=10)["would_fire"] == 0  # before 06-05
    assert bob.id not in [f["record"]["id"] for f in out["firings"]]


def test_date_offset_replay_and_its_limits(
    time_travel: Any, deal_type: RecordType, make_rule: Any, cli: Any
) -> None:
    add_record(
        type_key="opportunity", name="Renewed", fields={"renewal": "2026-06-01", "amount": 5}
    )
    add_record(type_key="opportunity", name="Small", fields={"renewal": "2026-06-02", "amount": 1})
    add_record(type_key="opportunity", name="Later", fields={"renewal": "2026-08-01", "amount": 5})
    add_record(
        type_key="opportunity", name="Long ago", fields={"renewal": "2025-01-01", "amount": 5}
    )
    make_rule(
        name="renewal-30",
        trigger={"on": "date_offset", "type": "opportunity", "field": "renewal", "days": -30},
        conditions={"field": "amount", "op": "gte", "value": 2},
    )
    code, out, err = cli("rule", "test", "renewal-30", "--since", "90d", "--json")
    assert code == 0, err
    view = json.loads(out)
    assert _fired(view) == [("2026-05-02", "Renewed")]
    assert view["firings"][0]["conditions"][0]["actual"] == 5.0
    code, out, _ = cli("rule", "test", "renewal-30", "--since", "90d")
    assert "would have fired 1 times" in out and "Renewed" in out


def test_schedule_replay_with_reenrolment(
    time_travel: Any, deal_type: RecordType, make_rule: Any
) -> None:
    add_record(type_key="opportunity", name="Open", fields={"stage": "open"})
    add_record(type_key="opportunity", name="Won", fields={"stage": "won"})
    make_rule(
        name="weekly",
        trigger={
            "on": "schedule",
            "rrule": "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9",
            "start": "2026-01-05T09:00Z",
            "type": "opportunity",
        },
        conditions={"field": "stage", "op": "eq", "value": "open"},
        limits={"reenrol": {"after_days": 14}},
    )
    out = selectors.replay(SYSTEM, "weekly", days=29)  # 05-17 .. 06-15 12:00: 5 Mondays
    assert (out["events"], out["would_fire"], out["not_matched_or_limited"]) == (5, 3, 2)
    assert _fired(out) == [
        ("2026-05-18", "Open"),
        ("2026-06-01", "Open"),
        ("2026-06-15", "Open"),
    ]


def test_a_list_rule_cannot_be_replayed_and_says_why(make_rule: Any) -> None:
    user = add_user(email="ann@our.test", role="member", password="correct horse battery")[0]
    view = save_view(viewer=viewer_of(user), type_key="person", name="All", query={})
    make_rule(
        name="joined",
        trigger={"on": "list.entered", "list": view.pk},
        actions=[{"do": "log_note", "body": "x"}],
    )
    with pytest.raises(ValidationError) as info:
        selectors.replay(SYSTEM, "joined", days=30)
    assert info.value.message.startswith(
        "since: a list.entered rule cannot be replayed: a saved list's past members"
    )


def test_event_replay_keeps_the_sentiment_filter(make_rule: Any) -> None:
    make_home()
    jane = make_person("Jane", email="jane@x.test")
    make_rule(
        name="sad",
        trigger={"on": "interaction.logged", "kind": "call", "sentiment": "negative"},
        actions=[{"do": "log_note", "body": "x"}],
    )
    log("call", jane, sentiment=0.9)
    log("call", jane, sentiment=-0.9)
    out = selectors.replay(SYSTEM, "sad", days=30)
    assert out["would_fire"] == 1


def test_event_replay_reads_do_not_grow_with_the_events(make_rule: Any) -> None:
    make_home()
    me = make_person("Me", email="me@our.test", org=Record.objects.get(name="Our Co"))
    make_rule(
        name="calls",
        trigger={"on": "interaction.logged", "kind": "call", "type": "person"},
        actions=[{"do": "log_note", "body": "x"}],
    )

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            out = selectors.replay(SYSTEM, "calls", days=30)
        assert out["would_fire"] == out["events"]  # one outside person on each call
        return len(ctx.captured_queries)

    for i in range(3):
        log("call", me, make_person(f"P{i}", email=f"p{i}@x.test"))
        log("email", me, make_person(f"E{i}", email=f"e{i}@x.test"))  # not a call
    few = queries()
    for i in range(3, 12):
        log("call", me, make_person(f"P{i}", email=f"p{i}@x.test"))
    assert queries() == few
    assert selectors.replay(SYSTEM, "calls", days=30)["events"] == 12  # the emails left out
