"""Wire types of the metrics API."""

from __future__ import annotations

from kith.server.schemas import Out


class MetricOut(Out):
    key: str
    label: str
    unit: str
    scopes: list[str]
    better: str
    params: dict[str, str]
    as_of_exact: bool


class MetricScopeOut(Out):
    id: str
    name: str
    type: str


class MetricViewScopeOut(Out):
    id: str  # the saved view's id
    name: str
    type: str  # "view"
    of: str  # the view's record type
    records: int  # how many records it selected (visible, existing on the as-of day)


class MetricResultOut(Out):
    metric: str
    label: str
    unit: str
    better: str
    scope: MetricScopeOut
    as_of: str
    window_days: int
    window_from: str
    value: float | None
    n: int
    reasons: list[str]
    evidence: list[str]


class MetricViewResultOut(MetricResultOut):
    scope: MetricViewScopeOut  # type: ignore[assignment]


class OutcomeOut(Out):
    key: str
    label: str
    polarity: str
    value_event: bool
