"""JSON API for intelligence: strength, health (with trend), best and at-risk."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from kith.accounts.selectors import viewer_of
from kith.intelligence import selectors as intelligence_selectors
from kith.intelligence.schemas import AtRiskOut, BestOut, HealthOut, StrengthOut
from kith.server.auth import require
from kith.server.schemas import READ_ERRORS

router = Router(tags=["intelligence"])


class HealthQuery(Schema):
    as_of: dt.date | None = None
    trend: bool = False
    every: str = Field("month", max_length=10, description="week or month")
    periods: int = Field(12, ge=1, le=60)


class StrengthQuery(Schema):
    a: str = Field(..., max_length=320, description="One of our people")
    b: str = Field(..., max_length=320)
    as_of: dt.date | None = None


class RankQuery(Schema):
    kind: str | None = Field(None, max_length=20, description="person or organization")
    limit: int = Field(20, ge=1, le=500)
    as_of: dt.date | None = None


@router.get("/records/{ref}/health", response={200: HealthOut, **READ_ERRORS})
def health(request: HttpRequest, ref: str, q: Query[HealthQuery]) -> Any:
    """Health 0-100 of a person or organisation with its band, factors and reasons."""
    viewer = viewer_of(require(request, "viewer"))
    return intelligence_selectors.health(
        viewer, ref, as_of=q.as_of, trend=q.trend, every=q.every, periods=q.periods
    )


@router.get("/strength", response={200: StrengthOut, **READ_ERRORS})
def strength(request: HttpRequest, q: Query[StrengthQuery]) -> Any:
    """Strength of the tie between one of our people and another, with reasons."""
    return intelligence_selectors.strength(
        viewer_of(require(request, "viewer")), q.a, q.b, as_of=q.as_of
    )


@router.get("/best", response={200: list[BestOut], **READ_ERRORS})
def best(request: HttpRequest, q: Query[RankQuery]) -> Any:
    """The best organisations and people by value and health."""
    viewer = viewer_of(require(request, "viewer"))
    return intelligence_selectors.best(viewer, as_of=q.as_of, limit=q.limit, kind=q.kind)


@router.get("/at-risk", response={200: list[AtRiskOut], **READ_ERRORS})
def at_risk(request: HttpRequest, q: Query[RankQuery]) -> Any:
    """Organisations and people whose health is low or falling, with the reasons."""
    viewer = viewer_of(require(request, "viewer"))
    return intelligence_selectors.at_risk(viewer, as_of=q.as_of, limit=q.limit, kind=q.kind)
