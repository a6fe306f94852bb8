"""JSON API for the metric catalogue: list, and one metric for one record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from kith.accounts.selectors import viewer_of
from kith.metrics import selectors
from kith.metrics.schemas import MetricOut, MetricResultOut
from kith.server.auth import require
from kith.server.schemas import READ_ERRORS

router = Router(tags=["metrics"])


class MetricQuery(Schema):
    as_of: dt.date | None = None
    window: str | None = Field(None, max_length=10)
    filter: str | None = Field(None, max_length=4000)


@router.get("/metrics", response={200: list[MetricOut], **READ_ERRORS})
def metrics(request: HttpRequest) -> Any:
    """The metric catalogue."""
    require(request, "viewer")
    return selectors.list_metrics()


@router.get("/metrics/{key}/{ref}", response={200: MetricResultOut, **READ_ERRORS})
def metric(request: HttpRequest, key: str, ref: str, q: Query[MetricQuery]) -> Any:
    """One metric for one record as of a day over a window, with reasons and evidence."""
    viewer = viewer_of(require(request, "viewer"))
    return selectors.show(viewer, key, ref, as_of=q.as_of, window=q.window, params=q.filter)
