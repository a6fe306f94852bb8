"""The scoring model's parameters (see MODEL.md). Override any key with the Django setting
``KITH_INTELLIGENCE`` (a dict) or the environment variable ``KITH_INTELLIGENCE`` (JSON)."""

from __future__ import annotations

import json
import os
from typing import Any

from django.conf import settings

from kith.core.errors import ValidationError

DEFAULTS: dict[str, Any] = {
    # depth of one two-way interaction, by kind (meeting = the deepest)
    "kind_weights": {
        "meeting": 3.0,
        "call": 2.5,
        "message": 1.0,
        "email": 1.0,
        "purchase": 1.0,
        "ticket": 0.7,
        "survey": 0.5,
        "note": 0.0,
    },
    "default_kind_weight": 0.5,
    # kinds that are two-way by nature; others are two-way when they came in from them
    "two_way_kinds": ["meeting", "call"],
    # pair strength = 100 * recency * sum(weight * factor)
    "strength_weights": {"frequency": 0.40, "depth": 0.20, "reciprocity": 0.20, "tenure": 0.20},
    "frequency_window_days": 180,
    "frequency_scale": 6.0,  # weighted two-way interactions in the window giving 63%
    "default_cadence_days": 30,
    "min_cadence_days": 7,
    "max_cadence_days": 180,
    "min_half_life_days": 30,
    "tenure_full_days": 730,
    "tenure_slowdown": 1.0,  # a tie of tenure_full_days decays (1 + this) times slower
    "engaged_strength": 20,  # a tie at least this strong counts as "in touch"
    "bands": [[75, "strong"], [55, "good"], [35, "fair"], [15, "weak"], [0, "cold"]],
    "breadth_bonus": 0.15,  # each extra in-touch team member closes this share of the gap
    "breadth_max": 3,
    "org_weights": {
        "depth": 0.40,
        "breadth": 0.15,
        "threading": 0.15,
        "key_roles": 0.15,
        "sentiment": 0.15,
    },
    "breadth_scale": 3.0,
    "key_roles": [
        "decision maker",
        "champion",
        "executive sponsor",
        "economic buyer",
        "executive",
        "ceo",
        "cfo",
        "cto",
    ],
    "key_engaged_health": 35,
    "signal_window_days": 90,
    "departure_window_days": 180,
    "departure_penalty": 10,
    "score_drop_points": 2.0,
    "score_drop_penalty": 10,
    "trend_days": 90,
    "falling_points": 10,
    "at_risk_health": 35,
    "value_window_days": 365,
}


def model_config() -> dict[str, Any]:
    """Return the model parameters: defaults, then settings, then the environment."""
    cfg = {k: (dict(v) if isinstance(v, dict) else v) for k, v in DEFAULTS.items()}

    layers: list[Any] = [getattr(settings, "KITH_INTELLIGENCE", None)]
    raw = os.environ.get("KITH_INTELLIGENCE")
    if raw:
        try:
            layers.append(json.loads(raw))
        except ValueError:
            raise ValidationError(
                f"KITH_INTELLIGENCE: not valid JSON: {raw[:60]!r}", field="KITH_INTELLIGENCE"
            ) from None
    for layer in layers:
        if not layer:
            continue
        if not isinstance(layer, dict):
            raise ValidationError("KITH_INTELLIGENCE: expected a JSON object")
        for key, value in layer.items():
            if key not in DEFAULTS:
                raise ValidationError(f"KITH_INTELLIGENCE: unknown parameter {key!r}", field=key)
            if isinstance(DEFAULTS[key], dict) and isinstance(value, dict):
                cfg[key].update(value)
            else:
                cfg[key] = value
    return cfg


def kind_weight(cfg: dict[str, Any], kind: str) -> float:
    return float(cfg["kind_weights"].get(kind, cfg["default_kind_weight"]))


def band(cfg: dict[str, Any], score: float) -> str:
    for floor, name in cfg["bands"]:
        if score >= floor:
            return str(name)
    return str(cfg["bands"][-1][1])
