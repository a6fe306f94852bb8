"""The web rule builder's fields -> a rule document (then validated like any rule file).

The form has the trigger's kind and its options as inputs, up to ``ROWS`` condition rows
(field, operator, value) joined by all or any, and up to ``ROWS`` action rows (what to do
and its options as ``key=value`` pairs, one per line or separated by ``;``). Values are
read as JSON where they parse (numbers, true/false, lists), else as text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kith.core.errors import ValidationError

ROWS = 4
TRIGGER_OPTIONS = (
    "type",
    "field",
    "from",
    "to",
    "role",
    "subject",
    "kind",
    "direction",
    "sentiment",
    "days",
    "rrule",
    "start",
    "list",
)
_NUMERIC = {"days", "list"}


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _pairs(text: str, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in text.replace("\n", ";").split(";"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"{where}: {part.strip()!r} is not key=value", field=where)
        out[key.strip()] = (
            value.strip()
            if key.strip() in ("title", "body", "subject", "notes", "value", "tag", "with", "role")
            else _value(value.strip())
        )
    return out


def document(form: Mapping[str, str]) -> dict[str, Any]:
    """The rule document the builder's fields describe (not yet validated)."""
    doc: dict[str, Any] = {"name": form.get("name", ""), "description": form.get("description", "")}
    trigger: dict[str, Any] = {"on": form.get("trigger.on", "")}
    for key in TRIGGER_OPTIONS:
        raw = (form.get(f"trigger.{key}") or "").strip()
        if raw:
            trigger[key] = _value(raw) if key in _NUMERIC else raw
    doc["trigger"] = trigger
    rows = []
    for i in range(ROWS):
        field = (form.get(f"cond.{i}.field") or "").strip()
        if not field:
            continue
        row: dict[str, Any] = {"field": field, "op": (form.get(f"cond.{i}.op") or "").strip()}
        raw = (form.get(f"cond.{i}.value") or "").strip()
        if raw:
            row["value"] = _value(raw)
            if isinstance(row["value"], int | float) and field in ("name", "type"):
                row["value"] = raw
        rows.append(row)
    advanced = (form.get("conditions") or "").strip()
    if advanced:
        try:
            doc["conditions"] = json.loads(advanced)
        except ValueError as exc:
            raise ValidationError(
                f"conditions: not valid JSON ({exc})", field="conditions"
            ) from None
    elif rows:
        doc["conditions"] = {
            form.get("match", "all") if form.get("match") in ("all", "any") else "all": rows
        }
    actions: list[dict[str, Any]] = []
    for i in range(ROWS):
        do = (form.get(f"action.{i}.do") or "").strip()
        if not do:
            continue
        actions.append(
            {"do": do, **_pairs(form.get(f"action.{i}.options") or "", f"actions[{len(actions)}]")}
        )
    doc["actions"] = actions
    return doc
