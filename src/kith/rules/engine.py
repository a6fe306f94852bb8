"""Running rules in the worker: queued events -> subjects -> conditions -> actions -> runs.

``drain()`` claims pending ``RuleEvent`` rows (a conditional UPDATE, so several workers on
one PostgreSQL never take the same event), and for each rule the event passed and each
record it concerns, writes a ``RuleRun`` with its trace. A run's row is committed as
``running`` before its actions start; the actions run in one transaction (all or nothing),
acting as ``rule:NAME`` (history and audit name the rule) and inside ``running_rule`` (the
events they cause carry the chain, so a rule's own writes stop re-triggering past its
``max_depth``). A run stuck past its deadline reads as ``timed_out`` and the sweep writes so.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection, transaction
from django.db.models.expressions import RawSQL

from kith.core import clock
from kith.core.bulk import execute_many, time_adapter
from kith.core.context import acting_as, running_rule
from kith.core.errors import KithError
from kith.core.ids import new_id
from kith.core.services import audit
from kith.interactions.models import InteractionLink, Participant
from kith.records import conditions
from kith.records.models import Record
from kith.records.selectors import home_org
from kith.relationships.selectors import team_ids
from kith.rules import actions as action_fns
from kith.rules.models import Enrolment, Rule, RuleEvent, RuleRun

CLAIM_SECONDS = 300
MAX_SUBJECTS = 50


class TimedOut(Exception):
    """A run went past its time-out: its actions roll back."""


@dataclasses.dataclass
class Compiled:
    """A rule as the engine runs it: the row, the parsed condition, the limits."""

    rule: Rule
    condition: conditions.Condition | None

    @property
    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.rule.spec
        return spec

    @property
    def limits(self) -> dict[str, Any]:
        limits: dict[str, Any] = self.spec["limits"]
        return limits


def compile_rule(rule: Rule) -> Compiled:
    """The rule with its condition parsed (against today's fields)."""
    cond = rule.spec.get("conditions")
    parsed = conditions.parse(cond, path="conditions") if cond is not None else None
    return Compiled(rule, parsed)


# -- the queue --------------------------------------------------------------------------------


def claim(limit: int, now: dt.datetime) -> tuple[list[RuleEvent], dt.datetime]:
    """Take up to ``limit`` pending events nobody holds (or whose holder's claim ran out).

    One UPDATE over a sub-select (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so two workers
    never take the same event; the claim's time stamp names the batch.
    """
    table = RuleEvent._meta.db_table
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    until = now + dt.timedelta(seconds=CLAIM_SECONDS, microseconds=secrets.randbelow(10**6))
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"UPDATE {table} SET claimed_until = %s WHERE id IN (SELECT id FROM {table} "
            "WHERE status = %s AND (claimed_until IS NULL OR claimed_until < %s) "
            f"ORDER BY id LIMIT %s{lock})",
            [
                connection.ops.adapt_datetimefield_value(until),
                RuleEvent.PENDING,
                connection.ops.adapt_datetimefield_value(now),
                limit,
            ],
        )
        if not cur.rowcount:
            return [], until
    batch = RuleEvent.objects.filter(status=RuleEvent.PENDING, claimed_until=until).order_by("id")
    return list(batch), until


def drain(*, limit: int = 500) -> int:
    """Run every queued event (``limit`` at a time); returns how many events were run."""
    done = 0
    rules: dict[str, Compiled | None] = {}
    while True:
        batch, until = claim(limit, clock.now())
        if not batch:
            return done
        known = interaction_candidates(
            e.payload["interaction_id"] for e in batch if e.event == "interaction.logged"
        )
        records = _prefetch(batch, {rid for rows in known.values() for rid, _ in rows})
        skipped: list[RuleRun] = []
        for event in batch:
            run_event(event, rules, records=records, skipped=skipped, known=known)
        insert_runs(skipped)
        RuleEvent.objects.filter(status=RuleEvent.PENDING, claimed_until=until).update(
            status=RuleEvent.DONE, claimed_until=None
        )
        done += len(batch)


def _rule(rule_id: str, cache: dict[str, Compiled | None]) -> Compiled | None:
    if rule_id not in cache:
        row = Rule.objects.filter(pk=rule_id, enabled=True).first()
        try:
            cache[rule_id] = compile_rule(row) if row is not None else None
        except KithError:  # a field it names was removed since: every run fails alike
            cache[rule_id] = Compiled(row, None) if row is not None else None
    return cache[rule_id]


def _prefetch(batch: list[RuleEvent], extra: set[str] | None = None) -> dict[str, Record]:
    """The records a batch of events names, read in one query (relationship ends, and
    ``extra``: the interactions' subjects, too)."""
    ids: set[str] = set(extra or ())
    for event in batch:
        payload = event.payload
        ids.update(payload.get("record_ids") or ())
        ids.update(payload[k] for k in ("record_id", "from", "to") if payload.get(k))
    if not ids:
        return {}
    # one JSON parameter rather than hundreds (PostgreSQL's client-side binding quotes each)
    if connection.vendor == "postgresql":
        listed = RawSQL("SELECT jsonb_array_elements_text(%s::jsonb)", [json.dumps(sorted(ids))])
    else:
        listed = RawSQL("SELECT value FROM json_each(%s)", [json.dumps(sorted(ids))])
    return {r.id: r for r in Record.objects.select_related("type").filter(pk__in=listed)}


_RUN_COLUMNS = (
    "id",
    "rule_id",
    "record_id",
    "trigger",
    "event_id",
    "status",
    "reason",
    "depth",
    "trace",
    "started_at",
    "deadline_at",
    "finished_at",
)


def insert_runs(runs: list[RuleRun]) -> None:
    """Write many runs at once (PostgreSQL: one JSON parameter through jsonb_to_recordset)."""
    if not runs:
        return
    if connection.vendor != "postgresql":  # plain executemany: bulk_create's per-value
        at = time_adapter()  # preparation was a third of a drain's time
        execute_many(
            RuleRun,
            _RUN_COLUMNS,
            [
                (
                    r.id,
                    r.rule_id,
                    r.record_id,
                    r.trigger,
                    r.event_id,
                    r.status,
                    r.reason,
                    r.depth,
                    json.dumps(_jsonable(r.trace)),
                    at(r.started_at),
                    at(r.deadline_at),
                    at(r.finished_at) if r.finished_at else None,
                )
                for r in runs
            ],
        )
        return
    rows = [
        {
            "id": r.id,
            "rule_id": r.rule_id,
            "record_id": r.record_id,
            "trigger": r.trigger,
            "event_id": r.event_id,
            "status": r.status,
            "reason": r.reason,
            "depth": r.depth,
            "trace": _jsonable(r.trace),
            "started_at": r.started_at.isoformat(),
            "deadline_at": r.deadline_at.isoformat(),
            "finished_at": r.finished_at.isoformat() if r.finished_at else None,
        }
        for r in runs
    ]
    table = RuleRun._meta.db_table
    cols = ", ".join(_RUN_COLUMNS)
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM jsonb_to_recordset(%s::jsonb) AS x("
            "id varchar, rule_id varchar, record_id varchar, trigger varchar, event_id bigint, "
            "status varchar, reason varchar, depth smallint, trace jsonb, "
            "started_at timestamptz, deadline_at timestamptz, finished_at timestamptz)",
            [json.dumps(rows)],
        )


def run_event(
    event: RuleEvent,
    cache: dict[str, Compiled | None] | None = None,
    *,
    records: dict[str, Record] | None = None,
    skipped: list[RuleRun] | None = None,
    known: Candidates | None = None,
) -> list[RuleRun]:
    """Evaluate each rule ``event`` passed for each record it concerns; returns the runs.

    Skipped runs go to ``skipped`` when given (the caller writes them in bulk), else are
    written here.
    """
    cache = {} if cache is None else cache
    runs: list[RuleRun] = []
    sink: list[RuleRun] = [] if skipped is None else skipped
    for rule_id in event.rule_ids:
        compiled = _rule(rule_id, cache)
        if compiled is None:
            continue
        for record_id in subjects(compiled, event.event, event.payload, known):
            run = evaluate(
                compiled,
                record_id,
                trigger=event.event,
                payload=event.payload,
                chain=list(event.chain),
                event_id=event.id,
                key=(event.payload.get("keys") or {}).get(record_id, ""),
                defer_skips=sink,
                records=records,
            )
            if run is not None:
                runs.append(run)
    if skipped is None and sink:
        insert_runs(sink)
    return runs + sink


def subjects(
    compiled: Compiled,
    event: str,
    payload: Mapping[str, Any],
    known: Candidates | None = None,
) -> list[str]:
    """The records an event concerns for a rule (the subject its conditions read);
    ``known``: the batch's interactions' candidates, read at once (``drain``)."""
    trigger = compiled.spec["trigger"]
    if "record_ids" in payload:  # a scan's batch
        return list(payload["record_ids"])
    if event.startswith("relationship."):
        return [payload[trigger.get("subject", "to")]]
    if event == "interaction.logged":
        iid = payload["interaction_id"]
        if known is not None and iid in known:
            return _of_type(trigger, known[iid])
        ids = set(
            Participant.objects.filter(interaction_id=iid).values_list("record_id", flat=True)
        )
        ids |= set(
            InteractionLink.objects.filter(interaction_id=iid).values_list("record_id", flat=True)
        )
        home = home_org()
        ours = set(team_ids()) | ({home.id} if home else set())
        rows = Record.objects.filter(pk__in=ids - ours, deleted_at__isnull=True)
        if "type" in trigger:
            rows = rows.filter(type_id=trigger["type"])
        return list(rows.order_by("id").values_list("id", flat=True)[:MAX_SUBJECTS])
    return [payload["record_id"]]


Candidates = dict[str, list[tuple[str, str]]]  # interaction id -> [(record id, type)]


def interaction_candidates(ids: Iterable[str]) -> Candidates:
    """The records many interactions concern (not our team or home; live), with their types,
    in four queries whatever the number: what ``subjects`` reads one interaction at a time."""
    found: dict[str, set[str]] = {iid: set() for iid in ids}
    if not found:
        return {}
    for model in (Participant, InteractionLink):
        rows = model.objects.filter(interaction_id__in=list(found)).values_list(
            "interaction_id", "record_id"
        )
        for iid, rid in rows:
            found[iid].add(rid)
    home = home_org()
    ours = set(team_ids()) | ({home.id} if home else set())
    wanted = set().union(*found.values()) - ours
    types = dict(
        Record.objects.filter(pk__in=wanted, deleted_at__isnull=True).values_list("id", "type_id")
    )
    return {iid: sorted((r, types[r]) for r in rids if r in types) for iid, rids in found.items()}


def interaction_subjects(trigger: Mapping[str, Any], ids: list[str]) -> dict[str, list[str]]:
    """``subjects`` of many interaction events at once (a replay)."""
    return {iid: _of_type(trigger, rows) for iid, rows in interaction_candidates(ids).items()}


def _of_type(trigger: Mapping[str, Any], rows: list[tuple[str, str]]) -> list[str]:
    kind = trigger.get("type")
    return [rid for rid, t in rows if kind is None or t == kind][:MAX_SUBJECTS]


# -- one run ---------------------------------------------------------------------------------


def _new_run(compiled: Compiled, record_id: str, trigger: str, depth: int, **kw: Any) -> RuleRun:
    now = clock.now()
    seconds = compiled.limits.get("timeout_seconds", 60)
    return RuleRun(
        id=new_id("run"),
        rule_id=compiled.rule.id,
        record_id=record_id or "",
        trigger=trigger,
        depth=depth,
        started_at=now,
        deadline_at=now + dt.timedelta(seconds=seconds),
        **kw,
    )


def _skip(run: RuleRun, reason: str, sink: list[RuleRun] | None) -> RuleRun | None:
    run.status = RuleRun.SKIPPED
    run.reason = reason[:300]
    run.finished_at = run.started_at
    if sink is not None:
        sink.append(run)
        return None
    run.save(force_insert=True)
    return run


def limit_reason(compiled: Compiled, record_id: str, *, key: str = "") -> str | None:
    """Why the rule's limits stop it acting on this record now (None: they do not)."""
    limits = compiled.limits
    reenrol = limits.get("reenrol", "always")
    now = clock.now()
    if reenrol != "always":
        enrolled = Enrolment.objects.filter(
            rule_id=compiled.rule.id, record_id=record_id, key=key
        ).first()
        if enrolled is not None and reenrol == "never":
            return f"re-enrolment: already acted on {record_id} ({enrolled.last_at:%Y-%m-%d})"
        if enrolled is not None and isinstance(reenrol, dict):
            after = enrolled.last_at + dt.timedelta(days=reenrol["after_days"])
            if after > now:
                return (
                    f"re-enrolment: acted on {record_id} on {enrolled.last_at:%Y-%m-%d}, "
                    f"again from {after:%Y-%m-%d}"
                )
    rate = limits.get("per_record")
    if rate:
        since = now - dt.timedelta(hours=rate["per_hours"])
        n = RuleRun.objects.filter(
            rule_id=compiled.rule.id,
            record_id=record_id,
            status=RuleRun.SUCCEEDED,
            started_at__gte=since,
        ).count()
        if n >= rate["max"]:
            return (
                f"rate limit: {n} runs for {record_id} in the last {rate['per_hours']} h "
                f"(max {rate['max']})"
            )
    return None


def context_of(
    compiled: Compiled, record: Record | None, trigger: str, payload: Mapping[str, Any]
) -> dict[str, Any]:
    """What action templates read: ``record.*``, ``rule.*``, ``event.*``."""
    rec: dict[str, Any] = {}
    if record is not None:
        rec = conditions.snapshot(record)
        rec["created_at"] = rec["created_at"].isoformat()
        rec["updated_at"] = rec["updated_at"].isoformat()
        rec["owner_id"] = record.owner_id
    event = {k: v for k, v in payload.items() if k != "record_ids"}
    return {
        "record": rec,
        "rule": {"name": compiled.rule.name, "id": compiled.rule.id},
        "event": {"name": trigger, **event},
    }


def evaluate(
    compiled: Compiled,
    record_id: str,
    *,
    trigger: str,
    payload: Mapping[str, Any],
    chain: list[str],
    event_id: int | None = None,
    key: str = "",
    defer_skips: list[RuleRun] | None = None,
    records: dict[str, Record] | None = None,
) -> RuleRun | None:
    """Run one rule for one record: check depth, conditions and limits, then act."""
    rule = compiled.rule
    depth = len(chain)
    run = _new_run(compiled, record_id, trigger, depth, event_id=event_id)
    trace: dict[str, Any] = {"event": _jsonable({"name": trigger, **payload}), "chain": chain}
    run.trace = trace
    max_depth = compiled.limits.get("max_depth", 2)
    if depth > max_depth:
        trace["depth"] = {"depth": depth, "max_depth": max_depth}
        return _skip(
            run,
            f"depth: caused by {' -> '.join(_names(chain))} ({depth} > max_depth {max_depth})",
            defer_skips,
        )
    record = (records or {}).get(record_id) if record_id else None
    if record_id and record is None:
        record = Record.objects.filter(pk=record_id).select_related("type").first()
    if record_id and (record is None or record.deleted_at is not None):
        return _skip(run, f"record {record_id} is gone", defer_skips)
    if rule.spec.get("conditions") is not None and compiled.condition is None:
        run.status = RuleRun.FAILED
        run.reason = "conditions: no longer valid (a field they name is gone)"
        run.finished_at = run.started_at
        run.save(force_insert=True)
        return run
    if compiled.condition is not None and record is not None:
        snap = conditions.snapshot(record)
        snap["changes"] = payload.get("changes") or {}
        ok, steps = compiled.condition.explain(snap)
        trace["conditions"] = steps
        if not ok:
            return _skip(run, "conditions not met", defer_skips)
    trace["conditions"] = trace.get("conditions", [])
    reason = limit_reason(compiled, record_id, key=key) if record_id else None
    if reason:
        return _skip(run, reason, defer_skips)
    run.save(force_insert=True)  # committed "running" before any action
    act(compiled, run, record, trigger, payload, chain, key=key)
    if records is not None:
        records.pop(record_id, None)  # its actions may have changed it: read it again
    return run


def _names(chain: Iterable[str]) -> list[str]:
    ids = list(chain)
    names = dict(Rule.objects.filter(pk__in=ids).values_list("id", "name"))
    return [names.get(i, i) for i in ids]


def act(
    compiled: Compiled,
    run: RuleRun,
    record: Record | None,
    trigger: str,
    payload: Mapping[str, Any],
    chain: list[str],
    *,
    key: str = "",
) -> None:
    """Run the rule's actions in one transaction and finish the run with their results."""
    rule = compiled.rule
    ctx = context_of(compiled, record, trigger, payload)
    results: list[dict[str, Any]] = []
    run.trace["actions"] = results
    try:
        as_rule = running_rule(rule.id, caused_by=chain)
        with transaction.atomic(), acting_as(f"rule:{rule.name}"), as_rule:
            for i, spec in enumerate(compiled.spec["actions"]):
                step = action_fns.Step(
                    rule=rule, run=run, record=record, action=spec, index=i, context=ctx
                )
                try:
                    result = action_fns.run(step)
                except KithError as exc:
                    results.append(
                        {"action": i, "do": spec["do"], "status": "failed", "error": exc.message}
                    )
                    raise
                results.append({"action": i, "do": spec["do"], **result})
                if clock.now() > run.deadline_at:
                    raise TimedOut(
                        f"past its time-out of {compiled.limits['timeout_seconds']} s "
                        f"after action {i}"
                    )
            if record is not None:
                _enrol(rule, record.id, key)
            audit("rule.ran", target=rule.name, detail={"run": run.id, "record": run.record_id})
    except TimedOut as exc:
        _finish(run, RuleRun.TIMED_OUT, str(exc), rolled_back=True)
        return
    except KithError as exc:
        _finish(run, RuleRun.FAILED, exc.message, rolled_back=True)
        return
    except Exception as exc:  # a bug or a lost database: recorded, the worker goes on
        _finish(run, RuleRun.FAILED, f"{type(exc).__name__}: {exc}", rolled_back=True)
        return
    _finish(run, RuleRun.SUCCEEDED, "")


def _finish(run: RuleRun, status: str, reason: str, *, rolled_back: bool = False) -> None:
    run.status = status
    run.reason = reason[:300]
    run.finished_at = clock.now()
    if rolled_back:
        run.trace["rolled_back"] = True
    RuleRun.objects.filter(pk=run.pk).update(
        status=status, reason=run.reason, finished_at=run.finished_at, trace=_jsonable(run.trace)
    )


def _enrol(rule: Rule, record_id: str, key: str) -> None:
    now = clock.now()
    row, created = Enrolment.objects.get_or_create(
        rule=rule,
        record_id=record_id,
        key=key,
        defaults={"count": 1, "first_at": now, "last_at": now},
    )
    if not created:
        Enrolment.objects.filter(pk=row.pk).update(count=row.count + 1, last_at=now)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def sweep_timed_out() -> int:
    """Write ``timed_out`` on runs left ``running`` past their deadline; returns how many."""
    return RuleRun.objects.filter(status=RuleRun.RUNNING, deadline_at__lt=clock.now()).update(
        status=RuleRun.TIMED_OUT,
        reason="stopped past its time-out (its worker ended or hung); its actions rolled back",
        finished_at=clock.now(),
    )
