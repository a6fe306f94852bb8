"""Wire types of the plans API."""

from __future__ import annotations

from typing import Any

from kith.server.schemas import Out


class CreatedOut(Out):
    id: str
    name: str


class InitiativeOut(Out):
    id: str
    title: str
    state: str
    closure: str | None
    closure_note: str | None


class ReadingOut(Out):
    on: str
    value: float | None
    n: int
    source: str
    note: str
    reasons: list[Any]
    evidence: list[Any]


class TaskMadeOut(Out):
    id: str
    title: str
    dedupe_key: str


class PlanRefOut(Out):
    id: str
    name: str
    type: str


class PlanSummaryOut(Out):
    id: str
    name: str
    account: PlanRefOut
    status: str
    owner: str | None
    period: dict[str, str | None]
    goals: dict[str, int]


class PlanOut(Out):
    id: str
    name: str
    as_of: str
    account: PlanRefOut
    status: str
    owner: PlanRefOut | None
    team: list[dict[str, Any]]
    period: dict[str, str | None]
    review_every: int | float | None
    sections: dict[str, str]
    health: dict[str, Any]
    summary: str
    goals: list[dict[str, Any]]
    initiatives: list[dict[str, Any]]
    stakeholders: list[dict[str, Any]]
    gaps: list[dict[str, Any]]
    reviews: list[dict[str, Any]]


class ReadingsOut(Out):
    measure: str
    label: str
    metric: str | None
    readings: list[dict[str, Any]]


class NextOut(Out):
    as_of: str
    label: str
    people: list[dict[str, Any]]


class StakeholdersOut(Out):
    plan: str
    as_of: str
    coverage: dict[str, Any]
    gaps: list[dict[str, Any]]
    stakeholders: list[dict[str, Any]] | None = None


class TemplateOut(Out):
    key: str
    builtin: bool
    name: str
    review_every: int | None
    goals: int
    measures: int
    initiatives: int
    body: dict[str, Any]
