"""The API's wire types for briefs and what changed."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from kith.server.schemas import Out, PersonRef


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


class BriefSuggestionOut(Out):
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
    suggestions: list[BriefSuggestionOut]
    changes: list[ChangeItemOut]


class DigestLineOut(Out):
    text: str
    evidence: list[str]
    link: str | None = Field(None, description="Where the line leads (only some lines have one)")


class DigestSectionOut(Out):
    key: str
    title: str
    lines: list[DigestLineOut]


class DigestOut(Out):
    user: str
    since: str
    until: str
    as_of: str
    sections: list[DigestSectionOut] = Field(description="Only the sections with lines")
    items: int = Field(description="The lines in all sections")


class SubscriptionOut(Out):
    user: str
    rrule: str
    zone: str
    channels: list[str]
    active: bool
    watermark: str | None
    next_at: str | None


class OrgRefOut(Out):
    id: str
    name: str


class SlippingOut(Out):
    person: PersonRef
    strength: float
    change: float
    reasons: list[str]
    evidence: list[str]


class StrengthenedOut(Out):
    person: PersonRef
    change: float
    evidence: list[str]


class PortfolioOut(Out):
    ties: int
    bands_now: dict[str, int]
    bands_90_days_ago: dict[str, int]
    strengthened: list[StrengthenedOut]


class SingleThreadedOut(Out):
    org: OrgRefOut
    evidence: list[str]


class HabitOut(Out):
    habit: str
    recent: float | None
    baseline: float | None
    said: str
    evidence: list[str]


class CoachViewOut(Out):
    by: str
    at: str


class CoachingOut(Out):
    person: PersonRef
    as_of: str
    compared_with: str
    portfolio: PortfolioOut
    slipping: list[SlippingOut]
    single_threaded: list[SingleThreadedOut]
    habits: list[HabitOut]
    try_: list[BriefSuggestionOut] = Field(alias="try", description="Suggestions, with evidence")
    viewed_by_others: list[CoachViewOut]


class CoachCardOut(Out):
    email: str
    link: str


class CoachSettingOut(Out):
    mode: str
    leads: dict[str, list[str]] = Field(description="Each team's leads (emails)")


class SurpriseOut(Out):
    kind: str = Field(description="spike, drop, level_up or level_down")
    positive: bool
    about: OrgRefOut
    metric: str
    week_end: str
    value: float
    baseline: float
    z: float
    text: str
    evidence: list[str]
    key: str


class SurprisesOut(Out):
    as_of: str
    scope: str
    metric: str
    weeks: int
    since_days: int
    items: list[SurpriseOut]
