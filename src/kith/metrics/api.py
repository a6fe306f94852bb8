"""JSON API for the metric catalogue: list, and one metric for one record or saved view."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kith.accounts.selectors import viewer_of
from kith.interactions.outcomes import define_outcome, outcome_types
from kith.metrics import selectors
from kith.metrics.schemas import MetricOut, MetricResultOut, MetricViewResultOut, OutcomeOut
from kith.server.auth import acting, require
from kith.server.schemas import READ_ERRORS, WRITE_ERRORS

router = Router(tags=["metrics"])


class MetricQuery(Schema):
    as_of: dt.date | None = None
    window: str | None = Field(None, max_length=10)
    filter: str | None = Field(None, max_length=4000)


class OutcomeIn(Schema):
    key: str = Field(..., max_length=40)
    label: str = Field("", max_length=100)
    polarity: str = Field("neutral", max_length=10)
    value_event: bool = False


@router.get("/outcomes", response={200: list[OutcomeOut], **READ_ERRORS})
def outcomes(request: HttpRequest, value_events: bool = False) -> Any:
    """The outcome vocabulary of interactions (types with a polarity; value events)."""
    require(request, "viewer")
    return outcome_types(value_event=True if value_events else None)


@router.post("/outcomes", response={201: OutcomeOut, **WRITE_ERRORS})
def add_outcome(request: HttpRequest, payload: OutcomeIn) -> Any:
    """Add or change an outcome type (admins: it changes what every metric counts)."""
    with acting(request, "admin"):
        o = define_outcome(
            key=payload.key,
            label=payload.label,
            polarity=payload.polarity,
            value_event=payload.value_event,
        )
    return Status(
        201,
        {"key": o.key, "label": o.label, "polarity": o.polarity, "value_event": o.value_event},
    )


@router.get("/metrics", response={200: list[MetricOut], **READ_ERRORS})
def metrics(request: HttpRequest) -> Any:
    """The metric catalogue."""
    require(request, "viewer")
    return selectors.list_metrics()


@router.get("/metrics/{key}/views/{name}", response={200: MetricViewResultOut, **READ_ERRORS})
def metric_of_view(request: HttpRequest, key: str, name: str, q: Query[MetricQuery]) -> Any:
    """One metric for the records one of the viewer's saved views selects (the sum or the
    mean of each record's value, said in the reasons), as of a day over a window."""
    viewer = viewer_of(require(request, "viewer"))
    return selectors.show_view(viewer, key, name, as_of=q.as_of, window=q.window, params=q.filter)


@router.get("/metrics/{key}/{ref}", response={200: MetricResultOut, **READ_ERRORS})
def metric(request: HttpRequest, key: str, ref: str, q: Query[MetricQuery]) -> Any:
    """One metric for one record as of a day over a window, with reasons and evidence."""
    viewer = viewer_of(require(request, "viewer"))
    return selectors.show(viewer, key, ref, as_of=q.as_of, window=q.window, params=q.filter)
