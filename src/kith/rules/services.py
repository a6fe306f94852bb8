"""Writes of rules: add (or replace) one from its document, enable, disable, delete; audited."""

from __future__ import annotations

import json
from typing import Any

import yaml
from django.db import transaction

from kith.core import clock, counters
from kith.core.context import current_actor
from kith.core.errors import Conflict, NotFound, ValidationError
from kith.core.ids import new_id
from kith.core.services import audit, record_change
from kith.rules import spec as rule_spec
from kith.rules.matching import VERSION
from kith.rules.models import Rule


def parse_document(text: str, *, filename: str = "") -> Any:
    """A rule file's document: JSON, or YAML (by extension, else whichever parses)."""
    if len(text) > 200_000:
        raise ValidationError("file: a rule file is at most 200 kB", field="file")
    if filename.endswith(".json") or text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"file: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
                field="file",
            ) from None
    try:
        return _yaml_on(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ValidationError(f"file: not valid YAML{where}", field="file") from None


def _yaml_on(node: Any) -> Any:
    """YAML 1.1 reads the key ``on`` as true: give triggers their ``on`` back."""
    if isinstance(node, dict):
        return {("on" if k is True else k): _yaml_on(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_yaml_on(v) for v in node]
    return node


def get_rule(ref: str) -> Rule:
    """The rule with this id or name."""
    key = (ref or "").strip()
    found = Rule.objects.filter(pk=key).first() or Rule.objects.filter(name=key.lower()).first()
    if found is None:
        raise NotFound(f"rule: no rule {ref!r}", field="rule")
    return found


def check_rule(doc: Any, *, replacing: Rule | None = None) -> dict[str, Any]:
    """Validate a rule document completely (a cycle with the enabled rules included)."""
    checked = rule_spec.check(doc)
    others = [
        r.spec
        for r in Rule.objects.filter(enabled=True).exclude(name=checked["name"])
        if replacing is None or r.pk != replacing.pk
    ]
    if checked["enabled"]:
        cycle = rule_spec.find_cycle(checked, others)
        if cycle:
            raise ValidationError(
                f"{cycle} (each one's action triggers the next; change a trigger or an action, "
                "or disable one of them)",
                field=cycle.split(":", 1)[0],
            )
    return checked


@transaction.atomic
def add_rule(*, doc: Any, replace: bool = False) -> Rule:
    """Store a rule after validating all of it; ``replace`` updates the rule of that name."""
    name = str(doc.get("name", "")).strip().lower() if isinstance(doc, dict) else ""
    existing = Rule.objects.select_for_update().filter(name=name).first() if name else None
    if existing is not None and not replace:
        raise Conflict(
            f"name: a rule named {name!r} exists ({existing.id}); use --replace to change it",
            field="name",
        )
    checked = check_rule(doc, replacing=existing)
    now = clock.now()
    if existing is not None:
        old = existing.spec
        existing.spec = checked
        existing.trigger = checked["trigger"]["on"]
        existing.enabled = checked["enabled"]
        existing.description = checked["description"]
        existing.version += 1
        existing.updated_at = now
        existing.save()
        record_change(
            entity_id=existing.id, entity_kind="rule", action="update", old=old, new=checked
        )
        audit("rule.replaced", target=existing.name, detail={"id": existing.id})
        counters.bump(VERSION)
        return existing
    rule = Rule.objects.create(
        id=new_id("rul"),
        name=checked["name"],
        description=checked["description"],
        enabled=checked["enabled"],
        trigger=checked["trigger"]["on"],
        spec=checked,
        created_by=current_actor(),
        created_at=now,
        updated_at=now,
        last_scan_at=now,
    )
    record_change(entity_id=rule.id, entity_kind="rule", action="create", new=checked)
    audit("rule.added", target=rule.name, detail={"id": rule.id, "trigger": rule.trigger})
    counters.bump(VERSION)
    return rule


@transaction.atomic
def set_enabled(*, ref: str, enabled: bool) -> Rule:
    """Enable or disable a rule (enabling checks it again: fields and cycles may have moved)."""
    rule = get_rule(ref)
    if rule.enabled == enabled:
        return rule
    if enabled:
        doc = {**rule.spec, "enabled": True}
        rule.spec = check_rule(doc, replacing=rule)
    else:
        rule.spec = {**rule.spec, "enabled": False}
    rule.enabled = enabled
    rule.version += 1
    rule.updated_at = clock.now()
    if enabled:
        rule.last_scan_at = rule.updated_at  # time triggers count from now, not from before
    rule.save()
    record_change(
        entity_id=rule.id,
        entity_kind="rule",
        action="update",
        field="enabled",
        old=not enabled,
        new=enabled,
    )
    audit("rule.enabled" if enabled else "rule.disabled", target=rule.name, detail={"id": rule.id})
    counters.bump(VERSION)
    return rule


@transaction.atomic
def delete_rule(*, ref: str) -> str:
    """Delete a rule with its runs; audited."""
    rule = get_rule(ref)
    name, rule_id = rule.name, rule.id
    rule.delete()
    record_change(entity_id=rule_id, entity_kind="rule", action="delete")
    audit("rule.deleted", target=name, detail={"id": rule_id})
    counters.bump(VERSION)
    return rule_id
