"""Reads of rules: the list, one rule, its runs with their traces, and dry runs.

``test_record`` says why a rule would or would not fire for a record now (each condition
with its inputs, each limit, what each action would do) and ``replay`` runs a rule over
the history of a period (what it would have done); neither writes anything. Rules are
workspace-wide definitions; the records a dry run names are those the viewer may see.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q

from kith.core import clock
from kith.core.errors import ValidationError
from kith.core.models import Change
from kith.core.viewer import Viewer
from kith.intelligence.models import PairStat
from kith.interactions.models import Interaction
from kith.records import conditions
from kith.records.models import Record
from kith.records.selectors import resolve, visible_q
from kith.relationships.models import Relationship
from kith.rules import engine, replays
from kith.rules.matching import sentiment_word
from kith.rules.models import Rule, RuleRun
from kith.rules.services import get_rule
from kith.rules.spec import EVENT_TRIGGERS, render

MAX_REPLAY_EVENTS = 2000


def status_of(run: RuleRun, now: dt.datetime | None = None) -> str:
    """A run's status as reported: one still ``running`` past its deadline has timed out."""
    if run.status == RuleRun.RUNNING and run.deadline_at < (now or clock.now()):
        return RuleRun.TIMED_OUT
    return run.status


def rule_view(rule: Rule, *, counts: dict[str, int] | None = None) -> dict[str, Any]:
    """A rule as the interfaces show it."""
    spec = rule.spec
    return {
        "id": rule.id,
        "name": rule.name,
        "description": rule.description,
        "enabled": rule.enabled,
        "trigger": spec["trigger"],
        "conditions": spec.get("conditions"),
        "actions": spec["actions"],
        "limits": spec["limits"],
        "version": rule.version,
        "created_by": rule.created_by,
        "created_at": rule.created_at.isoformat(),
        "updated_at": rule.updated_at.isoformat(),
        "runs": counts or {},
    }


def list_rules(viewer: Viewer) -> list[dict[str, Any]]:
    """Every rule, by name, with how many runs of each status it has had."""
    rules = list(Rule.objects.order_by("name"))
    counts: dict[str, dict[str, int]] = {}
    for row in RuleRun.objects.values("rule_id", "status").annotate(n=Count("id")):
        counts.setdefault(row["rule_id"], {})[row["status"]] = row["n"]
    return [rule_view(r, counts=counts.get(r.id, {})) for r in rules]


def get_rule_view(viewer: Viewer, ref: str) -> dict[str, Any]:
    """One rule."""
    return rule_view(get_rule(ref))


def run_view(run: RuleRun, now: dt.datetime, hidden: set[str]) -> dict[str, Any]:
    """A run with its trace (a record the viewer may not see is named only by that)."""
    private = run.record_id in hidden
    return {
        "id": run.id,
        "rule": run.rule_id,
        "record_id": "" if private else run.record_id,
        "record_hidden": private,
        "trigger": run.trigger,
        "status": status_of(run, now),
        "reason": run.reason,
        "depth": run.depth,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "deadline_at": run.deadline_at.isoformat(),
        "trace": {} if private else run.trace,
    }


def runs(
    viewer: Viewer, ref: str, *, failed: bool = False, limit: int = 50, record: str | None = None
) -> list[dict[str, Any]]:
    """A rule's runs, newest first (``failed``: failed and timed-out ones only)."""
    if not 1 <= limit <= 1000:
        raise ValidationError(f"limit: {limit} is not between 1 and 1000", field="limit")
    rule = get_rule(ref)
    now = clock.now()
    qs = RuleRun.objects.filter(rule=rule)
    if record:
        qs = qs.filter(record_id=resolve(viewer, record, include_deleted=True).id)
    if failed:
        stuck = Q(status=RuleRun.RUNNING, deadline_at__lt=now)
        qs = qs.filter(Q(status__in=[RuleRun.FAILED, RuleRun.TIMED_OUT]) | stuck)
    rows = list(qs.order_by("-started_at", "-id")[:limit])
    ids = {r.record_id for r in rows if r.record_id}
    seen = set(Record.objects.filter(visible_q(viewer), pk__in=ids).values_list("id", flat=True))
    return [run_view(r, now, ids - seen) for r in rows]


# -- dry runs ------------------------------------------------------------------------------


def _would(compiled: engine.Compiled, record: Record | None, ctx: dict[str, Any]) -> list[Any]:
    out = []
    for i, action in enumerate(compiled.spec["actions"]):
        shown = {k: (render(v, ctx) if isinstance(v, str) else v) for k, v in action.items()}
        out.append({"action": i, **shown})
    return out


def _time_check(rule: Rule, record: Record, today: dt.date) -> dict[str, Any] | None:
    """Whether a time-based trigger holds for the record today, with its inputs."""
    trigger = rule.spec["trigger"]
    on = trigger["on"]
    if on == "no_contact":
        last = engine_last_two_way(record.id)
        limit = today - dt.timedelta(days=trigger["days"])
        return {
            "trigger": on,
            "last_two_way": last.isoformat() if last else None,
            "before": limit.isoformat(),
            "result": last is not None and last < limit,
        }
    if on == "date_offset":
        value = (record.fields or {}).get(trigger["field"])
        fires = None
        if isinstance(value, str):
            fires = (dt.date.fromisoformat(value) + dt.timedelta(days=trigger["days"])).isoformat()
        return {
            "trigger": on,
            "field": trigger["field"],
            "value": value,
            "fires_on": fires,
            "result": fires == today.isoformat(),
        }
    return None


def engine_last_two_way(record_id: str) -> dt.date | None:
    """The newest day of two-way contact with a person (the pair table)."""
    found = (
        PairStat.objects.filter(person_id=record_id, n_two__gt=0)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )
    return found


def test_record(viewer: Viewer, ref: str, record_ref: str) -> dict[str, Any]:
    """Why the rule would or would not fire for a record now; writes nothing."""
    rule = get_rule(ref)
    record = resolve(viewer, record_ref, field="record")
    compiled = engine.compile_rule(rule)
    today = clock.today()
    out: dict[str, Any] = {"rule": rule.name, "record": {"id": record.id, "name": record.name}}
    trigger = rule.spec["trigger"]
    reasons: list[str] = []
    if "type" in trigger and trigger["on"] not in ("relationship.started", "relationship.ended"):
        type_ok = trigger["type"] == record.type_id
        out["trigger"] = {"type": trigger["type"], "record_type": record.type_id, "result": type_ok}
        if not type_ok:
            reasons.append(f"the trigger is for {trigger['type']} records, not {record.type_id}")
    timed = _time_check(rule, record, today)
    if timed is not None:
        out["trigger"] = timed
        if not timed["result"]:
            reasons.append(f"its {trigger['on']} trigger does not hold today")
    if compiled.condition is not None:
        ok, steps = compiled.condition.explain(conditions.snapshot(record), today=today)
        out["conditions"] = {"result": ok, "steps": steps}
        if not ok:
            failed = [s["path"] for s in steps if not s["result"]]
            reasons.append("conditions not met" + (f" ({', '.join(failed)})" if failed else ""))
    else:
        out["conditions"] = {"result": True, "steps": []}
    limit = engine.limit_reason(compiled, record.id)
    out["limits"] = {"result": limit is None, "reason": limit}
    if limit:
        reasons.append(limit)
    if not rule.enabled:
        reasons.append("the rule is disabled")
    out["would_fire"] = not reasons
    out["why_not"] = reasons
    ctx = engine.context_of(compiled, record, trigger["on"], {"record_id": record.id})
    out["actions"] = _would(compiled, record, ctx)
    return out


def _history(rule: Rule, since: dt.datetime) -> list[tuple[str, dict[str, Any], dt.datetime]]:
    """The events of a period that the rule's trigger listens to, oldest first."""
    trigger = rule.spec["trigger"]
    on = trigger["on"]
    out: list[tuple[str, dict[str, Any], dt.datetime]] = []
    cap = MAX_REPLAY_EVENTS
    if on == "record.created":
        rows = Change.objects.filter(entity_kind="record", action="create", at__gte=since)
        for c in rows.order_by("at", "id")[:cap]:
            out.append(("record.created", {"record_id": c.entity_id}, c.at))
    elif on == "record.changed":
        groups: dict[tuple[str, dt.datetime], dict[str, Any]] = {}
        rows = Change.objects.filter(entity_kind="record", action="update", at__gte=since)
        for c in rows.order_by("at", "id")[: cap * 4]:
            groups.setdefault((c.entity_id, c.at), {})[c.field] = [c.old, c.new]
        for (rid, at), changes in list(groups.items())[:cap]:
            out.append(("record.updated", {"record_id": rid, "changes": changes}, at))
    elif on in ("relationship.started", "relationship.ended"):
        action = "create" if on == "relationship.started" else "end"
        ids = Change.objects.filter(
            entity_kind="relationship", action=action, at__gte=since
        ).values_list("entity_id", "at")
        id_list = list(ids[:cap])
        found = Relationship.objects.filter(pk__in=[i for i, _ in id_list]).select_related("type")
        rels = {r.id: r for r in found}
        for rel_id, at in id_list:
            if rel_id not in rels:
                continue
            rel = rels[rel_id]
            payload = {
                "relationship_id": rel.id,
                "type": rel.type.key,
                "role": rel.role,
                "from": rel.from_record_id,
                "to": rel.to_record_id,
            }
            out.append((on, payload, at))
    elif on == "interaction.logged":
        logged = Interaction.objects.filter(at__gte=since, deleted_at__isnull=True)
        logged = logged.filter(**{k: trigger[k] for k in ("kind", "direction") if k in trigger})
        for i in logged.order_by("at", "id")[:cap]:
            payload = {
                "interaction_id": i.id,
                "kind": i.kind,
                "direction": i.direction,
                "sentiment_word": sentiment_word(i.sentiment),
            }
            out.append((on, payload, i.at))
    return out


def _limited(limits: dict[str, Any], times: list[dt.datetime], at: dt.datetime) -> bool:
    """Whether the rule's limits stop a replayed firing at ``at`` (``times``: its earlier
    firings for the same record within the replay)."""
    reenrol = limits["reenrol"]
    if reenrol == "never" and times:
        return True
    if (
        isinstance(reenrol, dict)
        and times
        and at < times[-1] + dt.timedelta(days=reenrol["after_days"])
    ):
        return True
    rate = limits.get("per_record")
    if rate:
        recent = [t for t in times if t > at - dt.timedelta(hours=rate["per_hours"])]
        if len(recent) >= rate["max"]:
            return True
    return False


def _replay_time(
    viewer: Viewer, rule: Rule, compiled: engine.Compiled, *, since: dt.datetime, now: dt.datetime
) -> dict[str, Any]:
    """The replay of a time-based rule (``kith.rules.replays``): its firings in the period."""
    on = rule.spec["trigger"]["on"]
    found = replays.firings(viewer, rule, since=since, now=now, cap=MAX_REPLAY_EVENTS)
    records = Record.objects.in_bulk({rid for _, rid, _ in found})
    shown: list[dict[str, Any]] = []
    n_fired = skipped = 0
    acted: dict[str, list[dt.datetime]] = {}
    for at, record_id, payload in found:
        record = records.get(record_id)
        if record is None:
            continue
        times = acted.setdefault(record_id, [])
        if _limited(compiled.limits, times, at):
            skipped += 1
            continue
        times.append(at)
        n_fired += 1
        if len(shown) >= 500:
            continue
        steps: list[dict[str, Any]] = []
        if compiled.condition is not None:  # held in the query; shown with their inputs
            _, steps = compiled.condition.explain(conditions.snapshot(record), today=at.date())
        ctx = engine.context_of(compiled, record, on, {"record_id": record_id, **payload})
        shown.append(
            {
                "at": at.isoformat(),
                "event": on,
                "record": {"id": record.id, "name": record.name},
                "trigger": payload,
                "conditions": steps,
                "actions": _would(compiled, record, ctx),
            }
        )
    return {
        "rule": rule.name,
        "since": since.isoformat(),
        "events": len(found),
        "would_fire": n_fired,
        "not_matched_or_limited": skipped,
        "firings": shown,
        "capped": len(found) >= MAX_REPLAY_EVENTS,
    }


def _named(payload: dict[str, Any]) -> list[str]:
    """The records a historical event's payload names."""
    return [payload[k] for k in ("record_id", "from", "to") if payload.get(k)]


def _passes(rule: Rule, event: str, payload: dict[str, Any], records: dict[str, Record]) -> bool:
    """Whether the trigger's own filters take a historical event (as matching does)."""
    trigger = rule.spec["trigger"]
    if event.startswith("record."):
        found = records.get(payload["record_id"])
        rtype = found.type_id if found is not None else None
        if "type" in trigger and trigger["type"] != rtype:
            return False
        if event == "record.updated" and "field" in trigger:
            name = trigger["field"]
            key = name if name in conditions.BUILTINS else f"fields.{name}"
            changes = payload.get("changes", {})
            if key not in changes:
                return False
            if "from" in trigger or "to" in trigger:
                leaf = {"field": name, "op": "changed"}
                leaf.update({k: trigger[k] for k in ("from", "to") if k in trigger})
                return conditions.parse(leaf, path="trigger").matches({"changes": changes})
        return True
    if event.startswith("relationship."):
        if "type" in trigger and trigger["type"] != payload["type"]:
            return False
        return "role" not in trigger or conditions.fold(trigger["role"]) == conditions.fold(
            payload["role"] or ""
        )
    if event == "interaction.logged":
        mood = payload["sentiment_word"]
        return trigger.get("sentiment", mood) == mood and all(
            trigger.get(k, payload[k]) == payload[k] for k in ("kind", "direction")
        )
    return True


def replay(viewer: Viewer, ref: str, *, days: int) -> dict[str, Any]:
    """What the rule would have done over the last ``days`` days of history; writes nothing.

    Conditions read each record as it is now, with the change the event made; limits are
    counted within the replay (re-enrolment, the per-record rate).
    """
    if not 1 <= days <= 3650:
        raise ValidationError(f"since: {days} days is not between 1 and 3650", field="since")
    rule = get_rule(ref)
    compiled = engine.compile_rule(rule)
    on = rule.spec["trigger"]["on"]
    now = clock.now()
    since = now - dt.timedelta(days=days)
    if on not in EVENT_TRIGGERS:
        return _replay_time(viewer, rule, compiled, since=since, now=now)
    fired: list[dict[str, Any]] = []
    skipped = 0
    acted: dict[str, list[dt.datetime]] = {}
    limits = compiled.limits
    history = _history(rule, since)
    by_interaction = engine.interaction_subjects(
        rule.spec["trigger"], [p["interaction_id"] for _, p, _ in history if "interaction_id" in p]
    )
    ids = {r for _, p, _ in history for r in _named(p)} | set().union(*by_interaction.values())
    records = Record.objects.filter(visible_q(viewer)).in_bulk(ids)  # what the viewer sees
    for event, payload, at in history:
        if not _passes(rule, event, payload, records):
            continue
        if "interaction_id" in payload:
            subjects = by_interaction.get(payload["interaction_id"], [])
        else:
            subjects = engine.subjects(compiled, event, payload)
        for record_id in subjects:
            record = records.get(record_id)
            if record is None:
                continue
            steps: list[dict[str, Any]] = []
            if compiled.condition is not None:
                snap = conditions.snapshot(record)
                snap["changes"] = payload.get("changes") or {}
                ok, steps = compiled.condition.explain(snap)
                if not ok:
                    skipped += 1
                    continue
            times = acted.setdefault(record_id, [])
            if _limited(limits, times, at):
                skipped += 1
                continue
            times.append(at)
            ctx = engine.context_of(compiled, record, event, payload)
            fired.append(
                {
                    "at": at.isoformat(),
                    "event": event,
                    "record": {"id": record.id, "name": record.name},
                    "conditions": steps,
                    "actions": _would(compiled, record, ctx),
                }
            )
    return {
        "rule": rule.name,
        "since": since.isoformat(),
        "events": len(history),
        "would_fire": len(fired),
        "not_matched_or_limited": skipped,
        "firings": fired[:500],
        "capped": len(history) >= MAX_REPLAY_EVENTS,
    }
