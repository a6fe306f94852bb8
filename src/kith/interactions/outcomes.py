"""The outcome vocabulary of interactions: configurable outcome types with a polarity.

An interaction's ``outcome`` stays text (imports and old data keep theirs); it is a typed
outcome when it equals the key of an ``OutcomeType`` (``demo_booked``, ``no_decision``).
Value events (go-live, ROI reported, expansion, reference given) are outcome types marked
``value_event``: interactions goals can measure (the metric catalogue's ``outcomes`` and
``value.events``). The built-in types come with the migration; users add and change theirs.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from kith.core.errors import ValidationError
from kith.core.services import audit
from kith.interactions.models import OutcomeType

POLARITIES = ("positive", "neutral", "negative")
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def outcome_key(text: str) -> str:
    """The key an outcome is written as: lower case, spaces and dashes as underscores."""
    return (text or "").strip().lower().replace(" ", "_").replace("-", "_")


def check_outcome(text: str | None, *, field: str = "outcome") -> str:
    """A typed outcome's key for ``text`` (``demo booked`` -> ``demo_booked``), or "" for
    none; a value outside the vocabulary is one line listing the valid keys."""
    if not (text or "").strip():
        return ""
    key = outcome_key(text or "")
    if OutcomeType.objects.filter(pk=key).exists():
        return key
    known = ", ".join(OutcomeType.objects.order_by("key").values_list("key", flat=True))
    raise ValidationError(
        f"{field}: {text!r} is not an outcome type (one of {known or 'none yet'}; "
        "an admin adds one with kith outcome add)",
        field=field,
    )


@transaction.atomic
def define_outcome(
    *, key: str, label: str = "", polarity: str = "neutral", value_event: bool = False
) -> OutcomeType:
    """Add or change an outcome type (its key is what interactions record as outcome)."""
    k = outcome_key(key)
    if not _KEY.match(k):
        raise ValidationError(f"key: {key!r} is not an outcome key (a-z, 0-9, _)", field="key")
    pol = (polarity or "").strip().lower()
    if pol not in POLARITIES:
        raise ValidationError(
            f"polarity: {polarity!r} is not one of {', '.join(POLARITIES)}", field="polarity"
        )
    text = (label or k.replace("_", " ")).strip()[:100]
    row, created = OutcomeType.objects.update_or_create(
        key=k, defaults={"label": text, "polarity": pol, "value_event": bool(value_event)}
    )
    audit(
        "outcome.defined" if created else "outcome.changed",
        target=k,
        detail={"polarity": pol, "value_event": bool(value_event)},
    )
    return row


def outcome_types(
    *, polarity: str | None = None, value_event: bool | None = None
) -> list[dict[str, Any]]:
    """The outcome vocabulary (a definition list: no record data, so no viewer), by key."""
    qs = OutcomeType.objects.all()
    if polarity:
        qs = qs.filter(polarity=polarity.strip().lower())
    if value_event is not None:
        qs = qs.filter(value_event=value_event)
    return [
        {"key": o.key, "label": o.label, "polarity": o.polarity, "value_event": o.value_event}
        for o in qs.order_by("key")
    ]
