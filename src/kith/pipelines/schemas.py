"""Wire types of the pipelines API."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from kith.server.schemas import Out, PersonRef


class StageOut(Out):
    key: str
    label: str
    position: int
    probability: float
    category: str


class PipelineOut(Out):
    key: str
    label: str
    type: str
    lost_reason_required: bool
    stages: list[StageOut]
    lost_reasons: list[str]


class DealRowOut(Out):
    id: str
    name: str
    type: str
    stage: str
    category: str
    probability: float
    since: str
    amount: float | None
    currency: str | None
    weighted: float | None
    close: str | None
    source: str | None
    owner: PersonRef | None
    account: PersonRef | None
    private: bool


class DealsOut(Out):
    pipeline: str
    as_of: str | None
    total: int
    rows: list[DealRowOut]


class DealPersonOut(Out):
    id: str
    name: str
    role: str


class MoveOut(Out):
    pipeline: str
    from_: str | None = Field(None, alias="from")
    to: str
    category: str
    at: str
    by: str
    reason: str
    note: str


class DealOut(DealRowOut):
    pipeline: str
    people: list[DealPersonOut]
    history: list[MoveOut]
    fields: dict[str, Any]


class FunnelRowOut(Out):
    stage: str
    category: str
    entries: float
    created: float
    advanced: float
    skipped: float
    lost: float
    lost_by_reason: dict[str, float]
    moved_back: float
    still: float
    conversion: float | None
    median_days: float | None


class FunnelGroupOut(Out):
    key: str
    name: str
    rows: list[FunnelRowOut]
    cohort: dict[str, float]
    overall_conversion: float | None


class FunnelOut(Out):
    pipeline: str
    from_: str = Field(alias="from")
    to: str
    as_of: str
    measure: str
    by: str | None
    stages: list[StageOut]
    groups: list[FunnelGroupOut]
    rows: list[FunnelRowOut]
    cohort: dict[str, float]
    overall_conversion: float | None


class DashboardOut(Out):
    key: str
    name: str
    owner: str
    shared: str
    widgets: list[dict[str, Any]]


class DashboardViewOut(DashboardOut):
    as_of: str
