"""Settings of the surveys app, read from ``KITH_*`` environment variables."""

from __future__ import annotations

import os

from kith.core.errors import ValidationError


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"{name}: {raw!r} is not a whole number", field=name) from None
    if not low <= value <= high:
        raise ValidationError(f"{name}: {value} is outside {low}..{high}", field=name)
    return value


def respond_limit() -> int:
    """Answers one address may post to the public page in a minute (``KITH_SURVEY_RATE``)."""
    return _int("KITH_SURVEY_RATE", 20, 1, 10_000)


def close_loop() -> bool:
    """Whether a detractor opens a follow-up task (``KITH_SURVEY_CLOSE_LOOP``, default on)."""
    return os.environ.get("KITH_SURVEY_CLOSE_LOOP", "1").strip().lower() not in ("0", "no", "off")


def min_answers() -> int:
    """Answers a period needs to count in a trend (``KITH_VOICE_MIN_N``, default 5)."""
    return _int("KITH_VOICE_MIN_N", 5, 1, 1000)
