"""A rule document (JSON or YAML): its trigger, conditions, actions and limits, checked.

``check(doc)`` validates everything before anything is stored and returns the normalised
document; every error names its path in the document (``trigger.on: unknown trigger
'record.chnged'``, ``conditions.all[2].op: unknown operator 'equals'``, ``actions[1].do:
...``). ``produces``/``consumes`` describe which events a rule's actions cause and which its
trigger takes, so ``find_cycle`` can refuse a cycle of rules before it runs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from dateutil import rrule as dateutil_rrule
from django.contrib.auth import get_user_model

from kith.core import clock
from kith.core.errors import ValidationError
from kith.lists.models import SavedView
from kith.records import conditions
from kith.records.models import RecordType
from kith.records.normalize import coerce_value
from kith.relationships.models import RelationshipType
from kith.webhooks.models import Webhook

# trigger "on" -> the domain event it listens to ("" for the time-based ones, run by scans)
EVENT_TRIGGERS = {
    "record.created": "record.created",
    "record.changed": "record.updated",
    "relationship.started": "relationship.started",
    "relationship.ended": "relationship.ended",
    "interaction.logged": "interaction.logged",
    "health.band_changed": "health.band_changed",
}
TIME_TRIGGERS = ("no_contact", "date_offset", "schedule", "list.entered", "list.left")
TRIGGERS = (*EVENT_TRIGGERS, *TIME_TRIGGERS)
_TRIGGER_KEYS: dict[str, set[str]] = {
    "record.created": {"type"},
    "record.changed": {"type", "field", "from", "to"},
    "relationship.started": {"type", "role", "subject"},
    "relationship.ended": {"type", "role", "subject"},
    "interaction.logged": {"kind", "direction", "sentiment", "type"},
    "health.band_changed": {"type", "from", "to"},
    "no_contact": {"days", "type"},
    "date_offset": {"field", "days", "type"},
    "schedule": {"rrule", "start", "type"},
    "list.entered": {"list"},
    "list.left": {"list"},
}
ACTIONS: dict[str, tuple[set[str], set[str]]] = {  # do -> (required keys, optional keys)
    "create_task": ({"title"}, {"due_in_days", "owner", "priority", "notes"}),
    "notify": ({"user", "title"}, {"body"}),
    "email": ({"to", "subject"}, {"body"}),
    "webhook": ({"webhook"}, {"event"}),
    "set_field": ({"field", "value"}, set()),
    "add_tag": ({"tag"}, set()),
    "start_relationship": ({"type", "with"}, {"role"}),
    "end_relationship": ({"type"}, {"with", "role"}),
    "log_note": ({"body"}, {"subject"}),
}
BANDS = ("strong", "good", "fair", "weak", "cold")
DIRECTIONS = ("in", "out", "internal")
SENTIMENTS = ("positive", "neutral", "negative")
PRIORITIES = ("low", "normal", "high", "urgent")
_TOP_KEYS = {"name", "description", "enabled", "trigger", "conditions", "actions", "limits"}
_LIMIT_KEYS = {"reenrol", "per_record", "max_depth", "timeout_seconds"}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_PLACE_ROOTS = ("record.", "rule.", "event.")
DEFAULT_LIMITS: dict[str, Any] = {
    "reenrol": "always",
    "per_record": None,
    "max_depth": 2,
    "timeout_seconds": 60,
}
MAX_ACTIONS = 20


def _err(path: str, message: str) -> ValidationError:
    return ValidationError(f"{path}: {message}", field=path)


def _text(doc: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str | None:
    value = doc.get(key)
    if value in (None, "") and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _err(f"{path}.{key}" if path else key, f"expected text, not {value!r}"[:120])
    if len(value) > 2000:
        raise _err(f"{path}.{key}" if path else key, "longer than 2000 characters")
    return value.strip()


def _int(value: Any, path: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _err(path, f"expected a whole number from {low} to {high}, not {value!r}")
    return value


def _check_keys(doc: Mapping[str, Any], allowed: set[str], path: str, what: str) -> None:
    unknown = sorted(set(doc) - allowed)
    if unknown:
        where = f"{path}.{unknown[0]}" if path else unknown[0]
        raise _err(
            where, f"unknown key {unknown[0]!r} in {what} (keys: {', '.join(sorted(allowed))})"
        )


def _type_key(value: Any, path: str) -> str:
    types = set(RecordType.objects.values_list("key", flat=True))
    if not isinstance(value, str) or value not in types:
        raise _err(path, f"unknown record type {value!r} (types: {', '.join(sorted(types))})")
    return value


def check(doc: Any) -> dict[str, Any]:
    """The rule document, validated and normalised; a ``ValidationError`` names its path."""
    if not isinstance(doc, dict):
        raise _err("rule", f"a rule is an object with name, trigger and actions, not {doc!r}"[:120])
    _check_keys(doc, _TOP_KEYS, "", "a rule")
    name = (_text(doc, "name", "") or "").lower()
    if not _NAME.match(name):
        raise _err("name", f"{name!r} must be 1-80 of a-z, 0-9, '.', '-', '_'")
    description = _text(doc, "description", "", required=False) or ""
    enabled = doc.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _err("enabled", f"expected true or false, not {enabled!r}")
    trigger = check_trigger(doc.get("trigger"))
    cond_doc = doc.get("conditions")
    scope = trigger.get("type") if not trigger["on"].startswith("relationship.") else None
    fields = conditions.known_fields([scope] if scope else None)
    if cond_doc is not None:
        conditions.parse(
            cond_doc,
            path="conditions",
            fields=fields,
            allow_changes=trigger["on"] == "record.changed",
        )
    actions = doc.get("actions")
    if not isinstance(actions, list) or not actions:
        raise _err("actions", "a rule needs a list of at least one action")
    if len(actions) > MAX_ACTIONS:
        raise _err("actions", f"at most {MAX_ACTIONS} actions")
    checked = [check_action(a, f"actions[{i}]", trigger, fields) for i, a in enumerate(actions)]
    limits = check_limits(doc.get("limits"))
    return {
        "name": name,
        "description": description,
        "enabled": enabled,
        "trigger": trigger,
        "conditions": cond_doc,
        "actions": checked,
        "limits": limits,
    }


def check_trigger(raw: Any) -> dict[str, Any]:
    """A trigger object, checked: ``{"on": ..., filters}``."""
    if not isinstance(raw, dict):
        raise _err(
            "trigger", f'expected an object such as {{"on": "record.created"}}, not {raw!r}'[:140]
        )
    on = raw.get("on")
    if on not in TRIGGERS:
        raise _err("trigger.on", f"unknown trigger {on!r} (triggers: {', '.join(TRIGGERS)})")
    _check_keys(raw, {"on", *_TRIGGER_KEYS[on]}, "trigger", f"a {on} trigger")
    out: dict[str, Any] = {"on": on}
    if "type" in raw:
        if on.startswith("relationship."):
            out["type"] = _rel_type(raw["type"], "trigger.type")
        elif on == "interaction.logged":
            out["type"] = _type_key(raw["type"], "trigger.type")
        else:
            out["type"] = _type_key(raw["type"], "trigger.type")
    if on == "record.changed" and "field" in raw:
        fields = conditions.known_fields([out["type"]] if "type" in out else None)
        fname = str(raw["field"]).removeprefix("fields.")
        if fname not in fields or fname in ("id", "type", "created_at", "updated_at"):
            raise _err(
                "trigger.field",
                f"unknown field {raw['field']!r} (fields: {', '.join(sorted(fields))})",
            )
        out["field"] = fname
        for key in ("from", "to"):
            if key in raw:
                out[key] = raw[key]
        if "from" in raw or "to" in raw:  # check from/to as a changed condition would
            probe = {
                "field": fname,
                "op": "changed",
                **{k: raw[k] for k in ("from", "to") if k in raw},
            }
            try:
                conditions.parse(probe, path="trigger", fields=fields)
            except ValidationError as exc:
                raise _err("trigger", exc.message.split(": ", 1)[1]) from None
    elif on == "record.changed" and ("from" in raw or "to" in raw):
        raise _err("trigger.from", "from/to need the field that changes (trigger.field)")
    if on.startswith("relationship."):
        if "role" in raw:
            out["role"] = _text(raw, "role", "trigger")
        subject = raw.get("subject", "to")
        if subject not in ("from", "to"):
            raise _err("trigger.subject", f"expected 'from' or 'to', not {subject!r}")
        out["subject"] = subject
    if on == "interaction.logged":
        if "kind" in raw:
            out["kind"] = (_text(raw, "kind", "trigger") or "").lower()
        if "direction" in raw:
            if raw["direction"] not in DIRECTIONS:
                raise _err(
                    "trigger.direction",
                    f"expected one of {', '.join(DIRECTIONS)}, not {raw['direction']!r}",
                )
            out["direction"] = raw["direction"]
        if "sentiment" in raw:
            if raw["sentiment"] not in SENTIMENTS:
                raise _err(
                    "trigger.sentiment",
                    f"expected one of {', '.join(SENTIMENTS)}, not {raw['sentiment']!r}",
                )
            out["sentiment"] = raw["sentiment"]
    if on == "health.band_changed":
        for key in ("from", "to"):
            if key in raw:
                if raw[key] not in BANDS:
                    raise _err(f"trigger.{key}", f"{raw[key]!r} is not a band ({', '.join(BANDS)})")
                out[key] = raw[key]
    if on == "no_contact":
        out["days"] = _int(raw.get("days"), "trigger.days", low=1, high=3650)
        out["type"] = out.get("type", "person")
        if out["type"] != "person":
            raise _err("trigger.type", "no_contact counts two-way contact with people: type person")
    if on == "date_offset":
        fields = conditions.known_fields([out["type"]] if "type" in out else None)
        fname = str(raw.get("field", "")).removeprefix("fields.")
        field = fields.get(fname)
        if field is None or field.kind != conditions.DATE or not field.custom:
            dates = sorted(n for n, f in fields.items() if f.kind == conditions.DATE and f.custom)
            raise _err(
                "trigger.field",
                f"{raw.get('field')!r} is not a date field "
                f"(date fields: {', '.join(dates) or 'none'})",
            )
        out["field"] = fname
        out["days"] = _int(raw.get("days", 0), "trigger.days", low=-3650, high=3650)
    if on == "schedule":
        out.update(check_rrule(raw.get("rrule"), raw.get("start")))
    if on in ("list.entered", "list.left"):
        out["list"] = _int(raw.get("list"), "trigger.list", low=1, high=2**62)
        _saved_view(out["list"])
    return out


def _saved_view(view_id: int) -> None:
    if not SavedView.objects.filter(pk=view_id).exists():
        raise _err("trigger.list", f"no saved list {view_id}")


def check_rrule(text: Any, start: Any) -> dict[str, Any]:
    """An RRULE (and its start), refused when malformed or when it never fires again."""
    if not isinstance(text, str) or not text.strip():
        raise _err("trigger.rrule", "a schedule needs an RRULE such as FREQ=WEEKLY;BYDAY=MO")
    now = clock.now()
    begin = now.replace(microsecond=0)
    if start is not None:
        try:
            begin = dt.datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        except ValueError:
            raise _err("trigger.start", f"{start!r} is not an ISO 8601 time") from None
        if begin.tzinfo is None:
            begin = begin.replace(tzinfo=dt.UTC)
    body = text.strip().removeprefix("RRULE:")
    try:
        rule = dateutil_rrule.rrulestr(body, dtstart=begin)
    except (ValueError, TypeError) as exc:
        raise _err("trigger.rrule", f"{body!r} is not a valid RRULE ({exc})") from None
    if not isinstance(rule, dateutil_rrule.rrule):
        raise _err("trigger.rrule", "give one RRULE, not a set")
    if rule._freq in (dateutil_rrule.SECONDLY, dateutil_rrule.MINUTELY):  # type: ignore[attr-defined]
        raise _err("trigger.rrule", "a schedule fires at most hourly (FREQ=HOURLY or slower)")
    following = rule.after(now)
    if following is None:
        raise _err(
            "trigger.rrule", f"{body!r} never fires after {now.isoformat(timespec='seconds')}"
        )
    return {"rrule": body, "start": begin.isoformat()}


def next_fire(trigger: Mapping[str, Any], after: dt.datetime) -> dt.datetime | None:
    """When a schedule trigger next fires after ``after``."""
    begin = dt.datetime.fromisoformat(trigger["start"])
    rule = dateutil_rrule.rrulestr(trigger["rrule"], dtstart=begin)
    found = rule.after(after)
    return found if isinstance(found, dt.datetime) else None


def _rel_type(value: Any, path: str) -> str:
    model = RelationshipType
    key = str(value or "").strip().lower()
    found = model.objects.filter(key=key).first() or model.objects.filter(inverse=key).first()
    if found is None:
        known = ", ".join(model.objects.values_list("key", flat=True))
        raise _err(path, f"unknown relationship type {value!r} (types: {known})")
    return key


def check_action(
    raw: Any, path: str, trigger: Mapping[str, Any], fields: Mapping[str, conditions.Field]
) -> dict[str, Any]:
    """One action, checked against what it names (users, webhooks, fields, types)."""
    if not isinstance(raw, dict):
        raise _err(
            path, f'an action is an object such as {{"do": "notify", ...}}, not {raw!r}'[:140]
        )
    do = raw.get("do")
    if do not in ACTIONS:
        raise _err(f"{path}.do", f"unknown action {do!r} (actions: {', '.join(ACTIONS)})")
    required, optional = ACTIONS[do]
    _check_keys(raw, {"do", *required, *optional}, path, f"a {do} action")
    for key in sorted(required):
        if key not in raw or raw[key] in (None, ""):
            raise _err(f"{path}.{key}", f"a {do} action needs {key}")
    out = dict(raw)
    for key, value in raw.items():
        if isinstance(value, str):
            check_template(value, f"{path}.{key}")
    if do == "create_task":
        if "due_in_days" in raw:
            out["due_in_days"] = _int(raw["due_in_days"], f"{path}.due_in_days", low=0, high=3650)
        if "priority" in raw and raw["priority"] not in PRIORITIES:
            raise _err(
                f"{path}.priority",
                f"expected one of {', '.join(PRIORITIES)}, not {raw['priority']!r}",
            )
        if "owner" in raw:
            _user_ref(raw["owner"], f"{path}.owner")
    elif do == "notify":
        _user_ref(raw["user"], f"{path}.user")
    elif do == "email":
        to = raw["to"]
        if not isinstance(to, str) or ("@" not in to and to != "record.owner"):
            raise _err(f"{path}.to", f"expected an email address or record.owner, not {to!r}")
    elif do == "webhook":
        if not Webhook.objects.filter(pk=str(raw["webhook"])).exists():
            raise _err(f"{path}.webhook", f"no webhook {raw['webhook']!r}")
    elif do == "set_field":
        fname = str(raw["field"]).removeprefix("fields.")
        field = fields.get(fname)
        if field is None or not field.custom:
            custom = sorted(n for n, f in fields.items() if f.custom)
            raise _err(
                f"{path}.field", f"unknown field {raw['field']!r} (fields: {', '.join(custom)})"
            )
        out["field"] = fname
        value = raw["value"]
        if not (isinstance(value, str) and _PLACEHOLDER.search(value)):
            kind = {"text": "text", "number": "number", "date": "date", "bool": "bool"}.get(
                field.kind
            )
            try:
                coerce_value(
                    kind or "text",
                    value,
                    field=f"{path}.value",
                    choices=list(field.choices) or None,
                )
            except ValidationError as exc:
                raise _err(f"{path}.value", exc.message.split(": ", 1)[-1]) from None
    elif do == "add_tag":
        tag = str(raw["tag"]).strip()
        if "," in tag or len(tag) > 40:
            raise _err(f"{path}.tag", f"{tag!r}: a tag has no commas and at most 40 characters")
    elif do in ("start_relationship", "end_relationship"):
        out["type"] = _rel_type(raw["type"], f"{path}.type")
        if (
            do == "end_relationship"
            and "with" not in raw
            and not str(trigger["on"]).startswith("relationship.")
        ):
            raise _err(
                f"{path}.with",
                "end_relationship needs with "
                "(or a relationship trigger, whose relationship it ends)",
            )
    return out


def _user_ref(value: Any, path: str) -> None:
    if value == "record.owner":
        return
    users = get_user_model()
    if (
        not isinstance(value, str)
        or not users.objects.filter(username__iexact=value.strip()).exists()
    ):
        raise _err(path, f"no user {value!r} (a user's email, or record.owner)")


def check_template(text: str, path: str) -> None:
    """Refuse ``{{ placeholders }}`` that name nothing a run has."""
    for match in _PLACEHOLDER.finditer(text):
        name = match.group(1)
        if not name.startswith(_PLACE_ROOTS) or not re.fullmatch(r"[a-z_]+(\.[a-z0-9_]+)+", name):
            raise _err(
                path,
                f"unknown placeholder {{{{{name}}}}} "
                "(use record.name, record.fields.KEY, rule.name, event.KEY)",
            )


def render(text: str, context: Mapping[str, Any]) -> str:
    """Fill ``{{ record.name }}`` style placeholders from a nested context ("" when absent)."""

    def value(match: re.Match[str]) -> str:
        node: Any = context
        for part in match.group(1).split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        return "" if node is None else str(node)

    return _PLACEHOLDER.sub(value, text)


def check_limits(raw: Any) -> dict[str, Any]:
    """Re-enrolment, the per-record rate, the depth of rule chains and the run's time-out."""
    limits = dict(DEFAULT_LIMITS)
    if raw is None:
        return limits
    if not isinstance(raw, dict):
        raise _err("limits", f"expected an object, not {raw!r}")
    _check_keys(raw, _LIMIT_KEYS, "limits", "limits")
    if "reenrol" in raw:
        value = raw["reenrol"]
        if value in ("always", "never"):
            limits["reenrol"] = value
        elif isinstance(value, dict) and set(value) == {"after_days"}:
            days = _int(value["after_days"], "limits.reenrol.after_days", low=1, high=3650)
            limits["reenrol"] = {"after_days": days}
        else:
            raise _err(
                "limits.reenrol", f"expected always, never or {{after_days: N}}, not {value!r}"
            )
    if "per_record" in raw and raw["per_record"] is not None:
        value = raw["per_record"]
        if not isinstance(value, dict) or set(value) != {"max", "per_hours"}:
            raise _err("limits.per_record", f"expected {{max: N, per_hours: H}}, not {value!r}")
        limits["per_record"] = {
            "max": _int(value["max"], "limits.per_record.max", low=1, high=1000),
            "per_hours": _int(value["per_hours"], "limits.per_record.per_hours", low=1, high=87600),
        }
    if "max_depth" in raw:
        limits["max_depth"] = _int(raw["max_depth"], "limits.max_depth", low=0, high=5)
    if "timeout_seconds" in raw:
        limits["timeout_seconds"] = _int(
            raw["timeout_seconds"], "limits.timeout_seconds", low=1, high=3600
        )
    return limits


# -- cycles ---------------------------------------------------------------------------------


def produces(spec: Mapping[str, Any]) -> list[tuple[int, str, dict[str, Any]]]:
    """The events a rule's actions cause: (action index, trigger on, what it says)."""
    out: list[tuple[int, str, dict[str, Any]]] = []
    for i, action in enumerate(spec["actions"]):
        do = action["do"]
        if do == "set_field":
            out.append((i, "record.changed", {"field": action["field"]}))
        elif do == "add_tag":
            out.append((i, "record.changed", {"field": "tags"}))
        elif do == "start_relationship":
            out.append((i, "relationship.started", {"type": action["type"]}))
        elif do == "end_relationship":
            out.append((i, "relationship.ended", {"type": action["type"]}))
        elif do == "log_note":
            out.append((i, "interaction.logged", {"kind": "note"}))
    return out


def consumes(trigger: Mapping[str, Any], on: str, info: Mapping[str, Any]) -> bool:
    """Whether a trigger may take an event an action causes (a coarse, static match)."""
    if trigger["on"] != on:
        return False
    if on == "record.changed":
        return "field" not in trigger or trigger["field"] == info.get("field")
    if on.startswith("relationship."):
        return "type" not in trigger or trigger["type"] == info.get("type")
    if on == "interaction.logged":
        return "kind" not in trigger or trigger["kind"] == info.get("kind")
    return True


def find_cycle(new: Mapping[str, Any], others: Iterable[Mapping[str, Any]]) -> str | None:
    """A cycle of rules through ``new`` (as "actions[0]: a -> b -> a"), or None."""
    specs = {s["name"]: s for s in others if s["name"] != new["name"]}
    specs[new["name"]] = new

    def edges(name: str) -> list[tuple[int, str]]:
        out = []
        for i, on, info in produces(specs[name]):
            for other, spec in specs.items():
                if consumes(spec["trigger"], on, info):
                    out.append((i, other))
        return out

    start = str(new["name"])
    stack: list[tuple[str, list[str], int]] = [(start, [start], -1)]
    seen: set[str] = set()
    while stack:
        name, path, first = stack.pop()
        for i, target in edges(name):
            at = i if first < 0 else first
            if target == start:
                return f"actions[{at}]: a cycle of rules: {' -> '.join([*path, start])}"
            if target not in seen:
                seen.add(target)
                stack.append((target, [*path, target], at))
    return None
