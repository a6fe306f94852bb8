"""The values a task holds, checked: priorities, parties, sources, repeats, conditions.

Shared by the services (which refuse bad values) and the interfaces (which name them).
Every error names the field and the value.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr

from kith.core.errors import ValidationError
from kith.core.parse import parse_date
from kith.tasks.models import Party, Source

PRIORITIES = {"low": 1, "normal": 2, "high": 3, "urgent": 4}
PRIORITY_NAMES = {v: k for k, v in PRIORITIES.items()}
_FREQS = {DAILY, WEEKLY, MONTHLY, YEARLY}


def parse_priority(value: str | int | None) -> int:
    """``low``/``normal``/``high``/``urgent`` or 1..4; None is normal."""
    if value is None or value == "":
        return PRIORITIES["normal"]
    if isinstance(value, int) and not isinstance(value, bool) and value in PRIORITY_NAMES:
        return value
    text = str(value).strip().lower()
    if text in PRIORITIES:
        return PRIORITIES[text]
    if text.isdigit() and int(text) in PRIORITY_NAMES:
        return int(text)
    raise ValidationError(
        f"priority: {value!r} is not one of low, normal, high, urgent (or 1-4)", field="priority"
    )


def parse_party(value: str | None) -> str:
    text = (value or "ours").strip().lower()
    text = {"us": "ours", "we": "ours", "them": "theirs", "they": "theirs"}.get(text, text)
    if text not in Party.values:
        raise ValidationError(f"party: {value!r} is not one of ours, theirs", field="party")
    return text


def parse_source(value: str | None) -> str:
    text = (value or "manual").strip().lower()
    if text not in Source.values:
        raise ValidationError(
            f"source: {value!r} is not one of {', '.join(Source.values)}", field="source"
        )
    return text


def parse_due(value: str | dt.date | None, *, field: str = "due") -> tuple[dt.date | None, Any]:
    """A day (``YYYY-MM-DD``, ``today``) or a day and time (``YYYY-MM-DDTHH:MM``): the
    owner's local day and time. Returns ``(day, time or None)``."""
    if isinstance(value, dt.datetime):
        return value.date(), value.time().replace(second=0, microsecond=0)
    if isinstance(value, str) and "T" in value.strip():
        day_text, _, time_text = value.strip().partition("T")
        day = parse_date(day_text, field=field)
        return day, parse_time(time_text, field=field)
    return parse_date(value, field=field), None


def parse_time(value: str | dt.time | None, *, field: str = "due_time") -> dt.time | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0)
    try:
        return dt.time.fromisoformat(value.strip()).replace(second=0, microsecond=0, tzinfo=None)
    except ValueError:
        raise ValidationError(
            f"{field}: {value!r} is not a valid time (expected HH:MM)", field=field
        ) from None


def _impossible_days(rule: rrule) -> bool:
    """A month day no chosen month has (``BYMONTH=2;BYMONTHDAY=30``): dateutil would search
    to the year 9999 for it."""
    days = [d for d in (_attr(rule, "bymonthday") or ()) if d > 0]
    if not days or _attr(rule, "bynmonthday"):
        return False
    months = _attr(rule, "bymonth") or tuple(range(1, 13))
    longest = max(29 if m == 2 else calendar.monthrange(2027, m)[1] for m in months)
    return bool(min(days) > longest)


def _attr(rule: rrule, name: str) -> Any:
    """A parsed part of an RRULE (dateutil keeps them as private attributes)."""
    return getattr(rule, f"_{name}", None)


def parse_repeat(text: str | None, *, start: dt.date, field: str = "repeat") -> rrule | None:
    """An RRULE (``FREQ=WEEKLY;BYDAY=MO``, ``RRULE:`` optional) starting on ``start``.

    Refused when malformed, finer than a day, or when it never fires.
    """
    raw = (text or "").strip()
    if not raw:
        return None
    body = raw.removeprefix("RRULE:").removeprefix("rrule:")
    if "\n" in body or "DTSTART" in body.upper():
        raise ValidationError(
            f"{field}: {raw!r}: give the rule only (FREQ=...); it starts on the due date",
            field=field,
        )
    try:
        rule = rrulestr(body.upper(), dtstart=dt.datetime(start.year, start.month, start.day))
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise ValidationError(
            f"{field}: {raw!r} is not a valid RRULE ({exc}; e.g. FREQ=WEEKLY;BYDAY=MO)",
            field=field,
        ) from None
    if not isinstance(rule, rrule):
        raise ValidationError(f"{field}: {raw!r} is not a single RRULE", field=field)
    if _attr(rule, "freq") not in _FREQS:
        raise ValidationError(
            f"{field}: {raw!r} repeats more often than daily (use DAILY, WEEKLY, MONTHLY "
            "or YEARLY)",
            field=field,
        )
    if _attr(rule, "interval") < 1:
        raise ValidationError(f"{field}: {raw!r}: INTERVAL must be positive", field=field)
    start_at = dt.datetime(start.year, start.month, start.day)
    if _impossible_days(rule) or rule.after(start_at, inc=True) is None:
        raise ValidationError(
            f"{field}: {raw!r} never fires (from {start.isoformat()})", field=field
        )
    return rule


def next_occurrence(text: str, *, after: dt.date, start: dt.date) -> dt.date | None:
    """The first day of the repeat ``text`` (started on ``start``) later than ``after``."""
    rule = parse_repeat(text, start=start)
    if rule is None:
        return None
    found = rule.after(dt.datetime(after.year, after.month, after.day), inc=False)
    return found.date() if found else None


def parse_condition(value: str | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """When a task completes itself: ``call`` (a kind), ``any``, or
    ``{"kind": "call", "two_way": true}``: a matching interaction with one of the records
    it is about, logged after the task was made."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        spec: dict[str, Any] = {"kind": value}
    elif isinstance(value, Mapping):
        spec = dict(value)
    else:
        raise ValidationError(f"complete_on: {value!r} is not a condition", field="complete_on")
    unknown = set(spec) - {"kind", "two_way"}
    if unknown:
        raise ValidationError(
            f"complete_on: unknown key(s) {', '.join(sorted(unknown))} (kind, two_way)",
            field="complete_on",
        )
    kind = str(spec.get("kind") or "any").strip().lower()
    if not re.match(r"^[a-z][a-z0-9_]{0,39}$", kind):
        raise ValidationError(
            f"complete_on: {spec.get('kind')!r} is not an interaction kind", field="complete_on"
        )
    two_way = spec.get("two_way", True)
    if not isinstance(two_way, bool):
        raise ValidationError(
            f"complete_on: two_way {two_way!r} is not true or false", field="complete_on"
        )
    return {"kind": kind, "two_way": two_way}


@dataclass(frozen=True, slots=True)
class Commitment:
    """A promise made in a meeting: ours (``us: ...``) or theirs (``them: ...``)."""

    party: str
    title: str
    due: dt.date | None


_COMMIT = re.compile(r"^\s*(us|we|ours|them|they|theirs)\s*:\s*(.*?)\s*$", re.I | re.S)
_BY = re.compile(r"^(.*?)\s+by\s+(\S+)\s*$", re.I | re.S)


def parse_commitment(text: str, *, field: str = "commit") -> Commitment:
    """``us: send the proposal by 2026-12-10`` / ``them: sign the NDA`` (the date optional)."""
    m = _COMMIT.match(text or "")
    if m is None:
        raise ValidationError(
            f"{field}: {text!r} does not start with 'us:' or 'them:' "
            "(e.g. 'us: send the proposal by 2026-12-10')",
            field=field,
        )
    party, rest = parse_party(m.group(1)), m.group(2)
    due = None
    by = _BY.match(rest)
    if by is not None:
        try:
            due = parse_date(by.group(2), field=field)
        except ValidationError:
            raise ValidationError(
                f"{field}: {by.group(2)!r} in {text!r} is not a date (expected YYYY-MM-DD)",
                field=field,
            ) from None
        rest = by.group(1)
    title = " ".join(rest.split())
    if not title:
        raise ValidationError(f"{field}: {text!r} says nothing to do", field=field)
    if len(title) > 300:
        raise ValidationError(
            f"{field}: {title[:40]!r}... is longer than 300 characters", field=field
        )
    return Commitment(party=party, title=title, due=due)
