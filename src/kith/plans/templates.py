"""Plan templates: goals, measures and initiatives with offsets (days) from the plan's start.

Two built-in templates (``expand``, ``retain``) and any number saved by users (a
``PlanTemplate`` row holding the same JSON shape). A template's body::

    {"name": "...", "review_every": 30, "desired_outcome": "...",
     "goals": [{"text": "...", "due_days": 180, "priority": "high",
                "measures": [{"metric": "people.engaged", "target_delta": 5,
                              "by_days": 180, "direction": "increase", "window": "90d",
                              "filter": {...}}
                             | {"label": "References", "target": 3, "baseline": 0,
                                "by_days": 180}],
                "initiatives": [{"title": "...", "due_days": 30}]}]}

``target_delta`` sets the target relative to the baseline the metric has on the plan's
start (``target`` sets it outright). Every error names its path in the body.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from django.db import transaction

from kith.core import clock
from kith.core.errors import NotFound, ValidationError
from kith.core.services import audit
from kith.core.viewer import Viewer
from kith.metrics.catalogue import get_metric
from kith.metrics.selectors import parse_params, parse_window
from kith.plans import conf
from kith.plans.models import PlanTemplate

BUILTIN: dict[str, dict[str, Any]] = {
    "expand": {
        "name": "Expand the account",
        "review_every": 30,
        "desired_outcome": "more of the account knows and relies on us",
        "goals": [
            {
                "text": "Broaden the relationship",
                "due_days": 180,
                "priority": "high",
                "measures": [
                    {"metric": "people.engaged", "target_delta": 5, "by_days": 180},
                    {"metric": "team.in_touch", "target_delta": 2, "by_days": 180},
                    {"metric": "roles.warm", "target": 3, "by_days": 120},
                ],
                "initiatives": [
                    {"title": "Map the buying committee", "due_days": 21},
                    {"title": "Executive briefing", "due_days": 45},
                ],
            },
            {
                "text": "Regular executive time",
                "due_days": 120,
                "measures": [
                    {
                        "metric": "exec.days_since_meeting",
                        "target": 30,
                        "by_days": 120,
                        "direction": "decrease",
                    }
                ],
            },
        ],
    },
    "retain": {
        "name": "Retain the account",
        "review_every": 14,
        "desired_outcome": "the account renews and says why",
        "goals": [
            {
                "text": "Keep the account healthy",
                "due_days": 90,
                "priority": "high",
                "measures": [
                    {"metric": "health", "target_delta": 10, "by_days": 90},
                    {
                        "metric": "interactions.two_way",
                        "target_delta": 4,
                        "by_days": 90,
                        "filter": {"kind": "meeting"},
                    },
                ],
                "initiatives": [{"title": "Renewal review with the sponsor", "due_days": 30}],
            },
            {
                "text": "Show the value delivered",
                "due_days": 90,
                "measures": [{"metric": "value.events", "target": 2, "by_days": 90}],
            },
        ],
    },
}
KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def _int(body: dict[str, Any], key: str, path: str, lo: int, hi: int) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ValidationError(f"{path}.{key}: {value!r} is not a whole number in {lo}..{hi}")
    return value


def _num(body: dict[str, Any], key: str, path: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValidationError(f"{path}.{key}: {value!r} is not a number")
    return float(value)


def _str(body: dict[str, Any], key: str, path: str, *, required: bool = False) -> str:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise ValidationError(f"{path}.{key}: is required")
        return ""
    if not isinstance(value, str) or len(value) > 200:
        raise ValidationError(f"{path}.{key}: {value!r} is not a text of up to 200 characters")
    return value.strip()


def _list(body: dict[str, Any], key: str, path: str) -> list[dict[str, Any]]:
    value = body.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValidationError(f"{path}.{key}: must be a list of objects")
    if len(value) > 50:
        raise ValidationError(f"{path}.{key}: more than 50 items")
    return value


def check_template(body: Any) -> dict[str, Any]:
    """A template body checked: the same shape back, or a ValidationError naming the path."""
    if not isinstance(body, dict):
        raise ValidationError("template: must be a JSON object", field="template")
    _str(body, "name", "template", required=True)
    _int(body, "review_every", "template", 1, 366)
    for s in ("desired_outcome", "priorities", "risks", "competitors"):
        if s in body and not isinstance(body[s], str):
            raise ValidationError(f"template.{s}: must be text")
    goals = _list(body, "goals", "template")
    if not goals:
        raise ValidationError("template.goals: a template needs at least one goal")
    for i, g in enumerate(goals):
        gp = f"template.goals[{i}]"
        _str(g, "text", gp, required=True)
        _int(g, "due_days", gp, 1, 3660)
        if g.get("priority") is not None and g["priority"] not in conf.PRIORITIES:
            raise ValidationError(
                f"{gp}.priority: {g['priority']!r} is not one of {', '.join(conf.PRIORITIES)}"
            )
        for j, m in enumerate(_list(g, "measures", gp)):
            mp = f"{gp}.measures[{j}]"
            if m.get("metric"):
                get_metric(str(m["metric"]), field=f"{mp}.metric")
            elif not _str(m, "label", mp):
                raise ValidationError(f"{mp}: a measure needs a metric or a label")
            if _int(m, "by_days", mp, 1, 3660) is None:
                raise ValidationError(f"{mp}.by_days: is required")
            target, delta = _num(m, "target", mp), _num(m, "target_delta", mp)
            if (target is None) == (delta is None):
                raise ValidationError(f"{mp}: give one of target or target_delta")
            if delta is not None and not m.get("metric"):
                raise ValidationError(f"{mp}.target_delta: only a computed measure has one")
            _num(m, "baseline", mp)
            if m.get("direction") is not None and m["direction"] not in conf.DIRECTIONS:
                raise ValidationError(
                    f"{mp}.direction: {m['direction']!r} is not one of {', '.join(conf.DIRECTIONS)}"
                )
            if m.get("window") is not None:
                parse_window(m["window"], field=f"{mp}.window")
            if m.get("filter") is not None:
                if not isinstance(m["filter"], dict):
                    raise ValidationError(f"{mp}.filter: must be a JSON object")
                parse_params(m["filter"], field=f"{mp}.filter")
        for j, ini in enumerate(_list(g, "initiatives", gp)):
            ip = f"{gp}.initiatives[{j}]"
            _str(ini, "title", ip, required=True)
            _int(ini, "due_days", ip, 0, 3660)
    return body


def get_template(key: str) -> dict[str, Any]:
    """A template's body by key: a saved one, else a built-in."""
    k = (key or "").strip().lower()
    saved = PlanTemplate.objects.filter(key=k).first()
    if saved is not None:
        return dict(saved.body)
    if k in BUILTIN:
        return BUILTIN[k]
    known = sorted(set(BUILTIN) | set(PlanTemplate.objects.values_list("key", flat=True)))
    raise NotFound(
        f"template: unknown template {key!r} (known: {', '.join(known)})", field="template"
    )


def list_templates(viewer: Viewer) -> list[dict[str, Any]]:
    """Every template (saved ones over the built-ins of the same key), by key."""
    found: dict[str, dict[str, Any]] = {
        k: {"key": k, "builtin": True, **_summary(b)} for k, b in BUILTIN.items()
    }
    for t in PlanTemplate.objects.order_by("key"):
        found[t.key] = {"key": t.key, "builtin": False, **_summary(t.body)}
    return [found[k] for k in sorted(found)]


def _summary(body: dict[str, Any]) -> dict[str, Any]:
    goals = body.get("goals", [])
    return {
        "name": body.get("name", ""),
        "review_every": body.get("review_every"),
        "goals": len(goals),
        "measures": sum(len(g.get("measures", [])) for g in goals),
        "initiatives": sum(len(g.get("initiatives", [])) for g in goals),
        "body": body,
    }


@transaction.atomic
def save_template(*, viewer: Viewer, key: str, body: str | dict[str, Any]) -> PlanTemplate:
    """Save (or replace) a template under ``key`` after checking its body."""
    k = (key or "").strip().lower()
    if not KEY.match(k):
        raise ValidationError(
            f"key: {key!r} is not a template key (a-z, 0-9, _ and -)", field="key"
        )
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError as exc:
            raise ValidationError(f"template: not valid JSON ({exc})", field="template") from None
    checked = check_template(body)
    row, _ = PlanTemplate.objects.update_or_create(key=k, defaults={"body": checked})
    audit("plan.template_saved", target=k, detail={"name": checked.get("name")})
    return row


def offset(start: dt.date, days: int | None) -> dt.date | None:
    return start + dt.timedelta(days=days) if days is not None else None


def today_or(start: dt.date | None) -> dt.date:
    return start or clock.today()
