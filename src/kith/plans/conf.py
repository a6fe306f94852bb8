"""Plan vocabularies: buying roles (configurable), stances, statuses, closure codes."""

from __future__ import annotations

import os

from django.conf import settings

DEFAULT_ROLES = [
    "economic_buyer",
    "decision_maker",
    "champion",
    "influencer",
    "user",
    "blocker",
    "executive_sponsor",
]
# the roles a plan's stakeholder coverage asks to be filled and warm
DEFAULT_REQUIRED = ["economic_buyer", "decision_maker", "champion"]
STANCES = ["supporter", "neutral", "detractor", "unknown"]
PLAN_STATUSES = ["draft", "active", "closed"]
GOAL_STATUSES = ["open", "closed"]
CLOSURES = ["achieved", "partially_achieved", "missed", "cancelled"]
PRIORITIES = ["low", "normal", "high"]
INITIATIVE_STATES = ["planned", "in_progress", "done", "cancelled"]
DIRECTIONS = ["increase", "decrease", "maintain"]


def _listed(name: str, default: list[str]) -> list[str]:
    """A list from the Django setting ``name`` or the environment (comma-separated)."""
    found = getattr(settings, name, None)
    if found:
        return [str(r) for r in found]
    raw = os.environ.get(name, "")
    items = [r.strip().lower().replace(" ", "_") for r in raw.split(",") if r.strip()]
    return items or list(default)


def buying_roles() -> list[str]:
    """The buying roles (``KITH_BUYING_ROLES``: a setting or comma-separated variable)."""
    return _listed("KITH_BUYING_ROLES", DEFAULT_ROLES)


def required_roles() -> list[str]:
    """The roles coverage needs filled and warm (``KITH_REQUIRED_ROLES``)."""
    return [r for r in _listed("KITH_REQUIRED_ROLES", DEFAULT_REQUIRED) if r in buying_roles()]
