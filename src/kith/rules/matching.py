"""Matching at write time: which enabled rules an event may concern, cheaply.

The handlers run inside the writer's transaction. They read the index of enabled rules
(rebuilt only when a rule changes: one counter read per write), filter by what the event
itself says (record type, changed field and its from/to, relationship type and role,
interaction kind, direction and sentiment), and write one ``RuleEvent`` row for the
worker when any rule passes. Conditions and actions run later, in the worker.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

from django.db import transaction

from kith.core import counters
from kith.core.context import rule_chain
from kith.core.events import subscribe
from kith.interactions.models import Interaction
from kith.records import conditions
from kith.records.models import Record
from kith.relationships.models import Relationship
from kith.rules.models import Rule, RuleEvent
from kith.rules.spec import EVENT_TRIGGERS

VERSION = "rules_version"


@dataclasses.dataclass(frozen=True)
class Matcher:
    rule_id: str
    trigger: dict[str, Any]
    change: conditions.Condition | None = None  # record.changed's field/from/to


_lock = threading.Lock()
_cache: dict[str, Any] = {"version": None, "index": {}}
_kickers: list[Callable[[], None]] = []


def on_queued(kick: Callable[[], None]) -> None:
    """Call ``kick()`` after a transaction that queued rule events commits (the worker)."""
    if kick not in _kickers:
        _kickers.append(kick)


def _kick() -> None:
    for kick in list(_kickers):
        kick()


def index() -> dict[str, list[Matcher]]:
    """Enabled event rules by the domain event they listen to (cached per rules version)."""
    version = counters.value(VERSION)
    if _cache["version"] == version:
        found: dict[str, list[Matcher]] = _cache["index"]
        return found
    built: dict[str, list[Matcher]] = {}
    rows = Rule.objects.filter(enabled=True, trigger__in=list(EVENT_TRIGGERS)).values_list(
        "id", "spec"
    )
    for rule_id, spec in rows:
        trigger = spec["trigger"]
        change = None
        if trigger["on"] == "record.changed" and ("from" in trigger or "to" in trigger):
            leaf = {"field": trigger["field"], "op": "changed"}
            leaf.update({k: trigger[k] for k in ("from", "to") if k in trigger})
            change = conditions.parse(leaf, path="trigger")
        built.setdefault(EVENT_TRIGGERS[trigger["on"]], []).append(
            Matcher(rule_id, trigger, change)
        )
    with _lock:
        _cache.update(version=version, index=built)
    return built


def forget() -> None:
    """Drop the cached index (tests that roll a rule back without moving the counter)."""
    with _lock:
        _cache.update(version=None, index={})


def _queue(event: str, payload: dict[str, Any], rule_ids: list[str]) -> None:
    if not rule_ids:
        return
    RuleEvent.objects.create(
        event=event, payload=payload, rule_ids=rule_ids, chain=list(rule_chain())
    )
    transaction.on_commit(_kick)


def _type_of(record_id: str, type_key: str | None) -> str | None:
    if type_key is not None:
        return type_key
    return Record.objects.filter(pk=record_id).values_list("type_id", flat=True).first()


def on_record_created(*, record_id: str, type_key: str | None = None, **_: Any) -> None:
    matchers = index().get("record.created")
    if not matchers:
        return
    rtype = _type_of(record_id, type_key)
    ids = [m.rule_id for m in matchers if m.trigger.get("type", rtype) == rtype]
    _queue("record.created", {"record_id": record_id, "type_key": rtype}, ids)


def on_record_updated(
    *,
    record_id: str,
    type_key: str | None = None,
    changes: dict[str, Any] | None = None,
    **_: Any,
) -> None:
    matchers = index().get("record.updated")
    if not matchers:
        return
    rtype = _type_of(record_id, type_key)
    ids = []
    for m in matchers:
        if m.trigger.get("type", rtype) != rtype:
            continue
        if "field" in m.trigger:
            name = m.trigger["field"]
            key = name if name in conditions.BUILTINS else f"fields.{name}"
            if changes is None or key not in changes:
                continue
            if m.change is not None and not m.change.matches({"changes": changes}):
                continue
        ids.append(m.rule_id)
    payload = {"record_id": record_id, "type_key": rtype, "changes": changes or {}}
    _queue("record.updated", payload, ids)


def _relationship(event: str, relationship_id: str) -> None:
    matchers = index().get(event)
    if not matchers:
        return
    rel = (
        Relationship.objects.filter(pk=relationship_id)
        .values("type_id", "type__key", "type__inverse", "role", "from_record_id", "to_record_id")
        .first()
    )
    if rel is None:
        return
    keys = {rel["type__key"], rel["type__inverse"]}
    ids = [
        m.rule_id
        for m in matchers
        if ("type" not in m.trigger or m.trigger["type"] in keys)
        and (
            "role" not in m.trigger
            or conditions.fold(m.trigger["role"]) == conditions.fold(rel["role"] or "")
        )
    ]
    payload = {
        "relationship_id": relationship_id,
        "type": rel["type__key"],
        "role": rel["role"],
        "from": rel["from_record_id"],
        "to": rel["to_record_id"],
    }
    _queue(event, payload, ids)


def on_relationship_started(*, relationship_id: str, **_: Any) -> None:
    _relationship("relationship.started", relationship_id)


def on_relationship_ended(*, relationship_id: str, **_: Any) -> None:
    _relationship("relationship.ended", relationship_id)


def sentiment_word(value: float | None) -> str:
    """negative below -0.2, positive above 0.2, else neutral (no sentiment: neutral)."""
    if value is None:
        return "neutral"
    return "negative" if value < -0.2 else "positive" if value > 0.2 else "neutral"


def on_interaction_logged(*, interaction_id: str, **_: Any) -> None:
    matchers = index().get("interaction.logged")
    if not matchers:
        return
    row = (
        Interaction.objects.filter(pk=interaction_id)
        .values("kind", "direction", "sentiment")
        .first()
    )
    if row is None:
        return
    mood = sentiment_word(row["sentiment"])
    ids = [
        m.rule_id
        for m in matchers
        if m.trigger.get("kind", row["kind"]) == row["kind"]
        and m.trigger.get("direction", row["direction"]) == row["direction"]
        and m.trigger.get("sentiment", mood) == mood
    ]
    payload = {"interaction_id": interaction_id, **row, "sentiment_word": mood}
    _queue("interaction.logged", payload, ids)


def on_band_changed(
    *, record_id: str, type_key: str, old: str, new: str, score: float | None = None, **_: Any
) -> None:
    matchers = index().get("health.band_changed")
    if not matchers:
        return
    ids = [
        m.rule_id
        for m in matchers
        if m.trigger.get("type", type_key) == type_key
        and m.trigger.get("from", old) == old
        and m.trigger.get("to", new) == new
    ]
    payload: dict[str, Any] = {"record_id": record_id, "type_key": type_key, "old": old}
    payload.update(new=new, score=score)
    _queue("health.band_changed", payload, ids)


def connect() -> None:
    """Subscribe the matchers to the domain events (``AppConfig.ready``)."""
    subscribe("record.created", on_record_created)
    subscribe("record.updated", on_record_updated)
    subscribe("relationship.started", on_relationship_started)
    subscribe("relationship.ended", on_relationship_ended)
    subscribe("interaction.logged", on_interaction_logged)
    subscribe("health.band_changed", on_band_changed)
