"""Rules benchmark: what 100 enabled rules add to a write, and events/s through the worker.

1. The same ``update_record`` write, timed in alternating blocks with no rules and with
   100 enabled rules whose triggers all take it (the worst case: every rule is matched
   and named in the queued event) and with 100 rules whose triggers do not; the goal is
   under 10 ms added per write.
2. Events through the worker: E queued ``record.updated`` events, each passing one rule
   (conditions evaluated, a run row written per event), drained by a real worker (the
   job queue: ``kith.rules.jobs.drain_events`` run by ``kith.core.worker``); the goal is
   1,000 events/s on PostgreSQL. The baseline, in the same run: reading the same records
   one by one by primary key.

3. Events whose rule fires (conditions pass, one ``set_field`` action each) through the
   worker, against the same writes made directly (``--firing=N``, 500 by default).

``python -m benchmarks rules [--pg=URL] [--events=N] [--writes=N] [--firing=N]`` (writes
per block):
SQLite in a temporary file by default, PostgreSQL with
``--pg=postgresql://postgres@127.0.0.1:5432/bench_rules``
(the database is dropped and created).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from typing import Any

GOAL_ADDED_MS = 10.0
GOAL_EVENTS_PER_S = 1000.0
_serial = [0]
ROUNDS = 10


def _arg(argv: list[str], name: str, default: str) -> str:
    for i, a in enumerate(argv):
        if a == name and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return default


def _open(argv: list[str]) -> str:
    import kith

    pg = _arg(argv, "--pg", "")
    if pg:
        import psycopg

        base, _, name = pg.rpartition("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}"')
            con.execute(f'CREATE DATABASE "{name}"')
        kith.open(pg)
        return f"PostgreSQL ({pg})"
    path = os.path.join(tempfile.mkdtemp(prefix="kith-bench-rules-"), "kith.db")
    kith.open(f"sqlite:///{path}")
    return f"SQLite ({path})"


def _rules(n: int, *, field: str) -> list[Any]:
    from kith.rules.services import add_rule

    made = []
    for i in range(n):
        made.append(
            add_rule(
                doc={
                    "name": f"bench-{field}-{i:03d}",
                    "trigger": {"on": "record.changed", "type": "deal", "field": field},
                    "conditions": {
                        "all": [
                            {"field": "amount", "op": "gte", "value": i * 10},
                            {"field": "stage", "op": "in", "value": ["open", "won"]},
                        ]
                    },
                    "actions": [{"do": "set_field", "field": "next_step", "value": f"step {i}"}],
                    "limits": {"max_depth": 0},
                }
            )
        )
    return made


def _set_enabled(rules: list[Any], on: bool) -> None:
    from kith.core import counters
    from kith.rules.matching import VERSION
    from kith.rules.models import Rule

    Rule.objects.filter(pk__in=[r.pk for r in rules]).update(enabled=on)
    counters.bump(VERSION)


def _time_writes(deals: list[Any], n: int, tag: str) -> list[float]:
    from kith.records.services import update_record

    out = []
    for i in range(n):
        deal = deals[i % len(deals)]
        _serial[0] += 1  # a new amount every write: each one changes the field
        start = time.perf_counter()
        update_record(ref=deal.id, values={"amount": 1000 + _serial[0], "notes": f"{tag} {i}"})
        out.append((time.perf_counter() - start) * 1000)
    return out


def part_write(writes: int) -> dict[str, float]:
    from kith.records.services import add_record, define_type
    from kith.rules.models import RuleEvent

    define_type(
        key="deal",
        fields=["stage:choice:open|won|lost", "amount:number", "next_step:text", "notes:text"],
    )
    deals = [
        add_record(type_key="deal", name=f"Deal {i}", fields={"stage": "open", "amount": i})
        for i in range(200)
    ]
    matching = _rules(100, field="amount")  # every one takes the write
    other = _rules(100, field="stage")  # none of these does
    _set_enabled(matching + other, False)
    _time_writes(deals, 50, "warm")
    blocks: dict[str, list[float]] = {"none": [], "100 matching": [], "100 not matching": []}
    # short alternating blocks (the machine's load drifts); each block's first write, which
    # rebuilds the rule index after the switch, is left out
    for _ in range(ROUNDS):
        _set_enabled(matching + other, False)
        blocks["none"] += _time_writes(deals, writes + 1, "none")[1:]
        _set_enabled(matching, True)
        blocks["100 matching"] += _time_writes(deals, writes + 1, "match")[1:]
        _set_enabled(matching, False)
        _set_enabled(other, True)
        blocks["100 not matching"] += _time_writes(deals, writes + 1, "other")[1:]
        _set_enabled(other, False)
    queued = RuleEvent.objects.count()
    RuleEvent.objects.all().delete()
    base = statistics.median(blocks["none"])
    print(f"write (update_record), median of {len(blocks['none'])} per case:")
    out = {"base_ms": base}
    for name, times in blocks.items():
        med = statistics.median(times)
        added = med - base
        print(
            f"  {name:>17}: {med:7.3f} ms  added {added:+7.3f} ms  ratio {med / base:5.2f}x"
            + (f"  (goal < {GOAL_ADDED_MS:.0f} ms added)" if name != "none" else "")
        )
        out[name] = med
    print(f"  events queued by the matching writes: {queued}")
    return out


def part_worker(events: int) -> dict[str, float]:
    from django.db import transaction

    from kith.core import jobs, worker
    from kith.records.models import Record
    from kith.records.services import add_record
    from kith.rules import jobs as rule_jobs
    from kith.rules.models import RuleEvent, RuleRun
    from kith.rules.services import add_rule

    rule = add_rule(
        doc={
            "name": "bench-worker",
            "trigger": {"on": "record.changed", "type": "deal", "field": "stage"},
            "conditions": {
                "all": [
                    {"field": "amount", "op": "gte", "value": 10_000_000},
                    {"field": "name", "op": "starts_with", "value": "deal"},
                ]
            },
            "actions": [{"do": "set_field", "field": "next_step", "value": "x"}],
        }
    )
    with transaction.atomic():
        ids = [
            add_record(type_key="deal", name=f"W {i}", fields={"stage": "open", "amount": i}).id
            for i in range(1000)
        ]
    rows = [
        RuleEvent(
            event="record.updated",
            payload={
                "record_id": ids[i % len(ids)],
                "type_key": "deal",
                "changes": {"fields.stage": ["open", "won"]},
            },
            rule_ids=[rule.id],
        )
        for i in range(events)
    ]
    RuleEvent.objects.bulk_create(rows, batch_size=1000)
    # baseline: read each event's record by primary key, one by one
    start = time.perf_counter()
    for i in range(events):
        Record.objects.filter(pk=ids[i % len(ids)]).values_list("name", flat=True).first()
    base = time.perf_counter() - start
    jobs.enqueue(rule_jobs.drain_events)
    start = time.perf_counter()
    worker.run_pending()
    took = time.perf_counter() - start
    runs = RuleRun.objects.filter(rule=rule).count()
    left = RuleEvent.objects.filter(status=RuleEvent.PENDING).count()
    rate = events / took
    print(
        f"worker: {events} events -> {runs} runs in {took:.2f} s = {rate:,.0f} events/s "
        f"(goal {GOAL_EVENTS_PER_S:,.0f}/s: {rate / GOAL_EVENTS_PER_S:.2f}x of it); "
        f"{left} left; baseline (one primary-key read per event): {events / base:,.0f}/s, "
        f"the worker takes {took / base:.1f}x the baseline's time"
    )
    return {"events_per_s": rate, "baseline_per_s": events / base}


def part_firing(events: int) -> dict[str, float]:
    """Events whose rule passes its conditions and acts (one ``set_field`` each), through
    the worker; the baseline is the same field written by ``update_record`` directly, one
    write per event, so the ratio is what the rules add to the writes their actions make."""
    from kith.core import jobs, worker
    from kith.records.services import add_record, update_record
    from kith.rules import jobs as rule_jobs
    from kith.rules.models import RuleEvent, RuleRun
    from kith.rules.services import add_rule

    rule = add_rule(
        doc={
            "name": "bench-fire",
            "trigger": {"on": "record.changed", "type": "deal", "field": "stage"},
            "conditions": {"field": "amount", "op": "gte", "value": 0},
            "actions": [{"do": "set_field", "field": "next_step", "value": "{{ record.name }}"}],
            "limits": {"max_depth": 0},
        }
    )
    ids = [
        add_record(type_key="deal", name=f"F {i}", fields={"stage": "open", "amount": i}).id
        for i in range(events)
    ]
    start = time.perf_counter()
    for i, rid in enumerate(ids):
        update_record(ref=rid, values={"notes": f"direct {i}"})
    base = time.perf_counter() - start
    RuleEvent.objects.all().delete()
    RuleEvent.objects.bulk_create(
        [
            RuleEvent(
                event="record.updated",
                payload={
                    "record_id": rid,
                    "type_key": "deal",
                    "changes": {"fields.stage": ["open", "won"]},
                },
                rule_ids=[rule.id],
            )
            for rid in ids
        ],
        batch_size=1000,
    )
    jobs.enqueue(rule_jobs.drain_events)
    start = time.perf_counter()
    worker.run_pending()
    took = time.perf_counter() - start
    fired = RuleRun.objects.filter(rule=rule, status="succeeded").count()
    rate, base_rate = events / took, events / base
    print(
        f"worker, every event fires (a set_field write each): {events} events -> {fired} "
        f"runs that acted in {took:.2f} s = {rate:,.0f} events/s; baseline (the same write "
        f"by update_record, one per event): {base_rate:,.0f}/s, the worker takes "
        f"{took / base:.1f}x the baseline's time"
    )
    return {"firing_per_s": rate, "baseline_per_s": base_rate}


def main(argv: list[str]) -> None:
    where = _open(argv)
    print(f"database: {where}", flush=True)
    part_write(int(_arg(argv, "--writes", "20")))
    part_worker(int(_arg(argv, "--events", "5000")))
    part_firing(int(_arg(argv, "--firing", "500")))
