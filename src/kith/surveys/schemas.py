"""The surveys API's wire types."""

from __future__ import annotations

from typing import Any

from kith.server.schemas import Out


class Estimate(Out):
    value: float | None
    n: int
    low: float | None = None
    high: float | None = None


class RateOut(Out):
    asked: int
    answered: int
    value: float | None
    n: int
    low: float | None = None
    high: float | None = None


class SurveyOut(Out):
    id: str
    name: str
    kind: str
    question: str
    followup: str
    scale: list[int]
    throttle_days: int
    per_account_quarter: int | None
    audience: dict[str, Any]
    trigger: dict[str, Any]
    remind_after_days: int | None
    expire_after_days: int
    active: bool
    created_at: str
    invites: dict[str, int]
    response_rate: RateOut


class InviteOut(Out):
    id: str
    person: str
    name: str
    account: str | None
    status: str
    reason: str
    created_at: str
    sent_at: str | None
    responded_at: str | None
    expires_at: str | None


class SurveyDetailOut(SurveyOut):
    suppressed_by_reason: dict[str, int]
    latest: list[InviteOut]


class PlannedOut(Out):
    person: str
    name: str
    email: str
    account: str | None
    account_name: str | None
    status: str
    reason: str


class SendOut(Out):
    survey: str
    name: str
    dry_run: bool
    asked: list[PlannedOut]
    suppressed: list[PlannedOut]


class ResponseOut(Out):
    id: str
    created: bool
    score: float | None
    kind: str
    sentiment: float | None


class PeriodOut(Estimate):
    period: str
    start: str
    end: str
    groups: dict[str, int] | None = None
    response_rate: dict[str, Any]


class VoiceOut(Out):
    scope: dict[str, Any]
    metric: str
    every: str
    as_of: str
    series: list[PeriodOut]
    trend: dict[str, Any]
    coverage: dict[str, Any] | None
    sentence: str


class SentimentOut(Out):
    interaction: str
    value: float | None
    source: str | None
    evidence: list[str]
    note: str = ""
