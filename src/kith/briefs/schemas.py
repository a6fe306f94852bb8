"""The API's wire types for briefs and what changed."""

from __future__ import annotations

from typing import Any

from kith.server.schemas import Out


class ChangeItemOut(Out):
    kind: str
    at: str
    text: str
    about: dict[str, str]
    evidence: list[str]
    data: dict[str, Any]


class ChangesOut(Out):
    record: dict[str, str]
    as_of: str
    since: str
    until: str
    items: list[ChangeItemOut]


class LineOut(Out):
    text: str
    evidence: list[str]


class SectionOut(Out):
    key: str
    title: str
    lines: list[LineOut]


class SuggestionOut(Out):
    label: str  # always "suggestion": advice, apart from the facts
    text: str
    why: str
    evidence: list[str]


class BriefOut(Out):
    record: dict[str, str] | None
    as_of: str
    since: str
    until: str
    meeting: dict[str, Any] | None
    sections: list[SectionOut]
    suggestions: list[SuggestionOut]
    changes: list[ChangeItemOut]
