"""What readers produce: raw records and interactions, each tagged with where it came from.

No Django imports here, so readers stay importable and fast.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from kith.core.limits import MAX_CONTACTS_PER_KIND

MAX_FIELD = 10_000  # characters; longer values are an error, not a silent truncation


@dataclass
class BadRow:
    """One bad row, card, event or message: where, which column, what value and why."""

    where: str
    reason: str
    column: str = ""
    value: str = ""

    def line(self) -> str:
        col = f", column {self.column!r}" if self.column else ""
        shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
        val = f", value {shown!r}" if self.value else ""
        return f"{self.where}{col}{val}: {self.reason}"

    def as_dict(self) -> dict[str, str]:
        return {
            "where": self.where,
            "column": self.column,
            "value": self.value[:200],
            "reason": self.reason,
        }


@dataclass
class RawRecord:
    """A record as read: ``(target, column, value)`` triples, validated later.

    Targets: name, first, middle, last, prefix, suffix, nickname, email, phone, domain,
    url, org, title, department, uid, type, address, birthday, note, tag (a cell of tags),
    ``tag:one`` (one tag), ``field:<name>``,
    ``related:<type>``.
    """

    values: list[tuple[str, str, str]] = field(default_factory=list)
    cut: dict[str, int] = field(default_factory=dict)  # contact values over the cap, by kind

    def add(self, target: str, column: str, value: Any) -> None:
        text = "" if value is None else str(value)
        if not text.strip():
            return
        if target in _CAPPED:
            have = sum(1 for t, _, _ in self.values if t == target)
            if have >= MAX_CONTACTS_PER_KIND:
                self.cut[target] = self.cut.get(target, 0) + 1
                return
        self.values.append((target, column, text))

    def notes(self) -> list[str]:
        """What was left out, in words (for the import report)."""
        return [
            f"kept the first {MAX_CONTACTS_PER_KIND} {kind}s, left out {n:,} more"
            for kind, n in sorted(self.cut.items())
        ]


_CAPPED = {"email", "phone", "domain", "url"}


@dataclass
class RecordIn:
    """A validated incoming record, ready to match and write."""

    type_key: str
    name: str
    emails: list[str] = field(default_factory=list)  # normalised
    phones: list[tuple[str, str]] = field(default_factory=list)  # (shown, normalised)
    domains: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    org: str = ""
    title: str = ""
    uid: str = ""
    related: list[tuple[str, str]] = field(default_factory=list)  # (reltype, target ref)
    tags: list[str] = field(default_factory=list)  # Labels, CATEGORIES, Categories


@dataclass
class PersonRef:
    """Someone named in an interaction: an address and maybe a display name."""

    email: str  # normalised
    name: str = ""


@dataclass
class InteractionIn:
    kind: str
    at: dt.datetime
    external_id: str
    people: list[tuple[PersonRef, str]] = field(default_factory=list)  # (who, role)
    subject: str = ""
    body: str = ""
    duration: int | None = None
    thread_id: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    direction: str | None = None  # None: judge from the home organisation's domains
    cancelled: bool = False


@dataclass
class Unit:
    """One unit of input: a record, or interactions, or the reason it is bad; ``raw`` is
    what a reject file needs to write it back out."""

    where: str
    raw: Any = None
    record: RawRecord | None = None
    interactions: list[InteractionIn] = field(default_factory=list)
    error: BadRow | None = None
    notes: list[str] = field(default_factory=list)  # what was cut to stay within bounds
