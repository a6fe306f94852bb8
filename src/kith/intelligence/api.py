"""JSON API for intelligence: strength, health (with trend), best and at-risk."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

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
    from kith.intelligence.selectors import health as read
    from kith.server.queries import visible_record
    from kith.server.redact import without_hidden

    user = require(request, "viewer")
    record = visible_record(user, ref)
    data = read(record.id, as_of=q.as_of, trend=q.trend, every=q.every, periods=q.periods)
    return without_hidden(user, data)


@router.get("/strength", response={200: StrengthOut, **READ_ERRORS})
def strength(request: HttpRequest, q: Query[StrengthQuery]) -> Any:
    """Strength of the tie between one of our people and another, with reasons."""
    from kith.intelligence.selectors import strength as read
    from kith.server.queries import visible_record

    user = require(request, "viewer")
    a = visible_record(user, q.a, field="a")
    b = visible_record(user, q.b, field="b")
    return read(a.id, b.id, as_of=q.as_of)


@router.get("/best", response={200: list[BestOut], **READ_ERRORS})
def best(request: HttpRequest, q: Query[RankQuery]) -> Any:
    """The best organisations and people by value and health."""
    from kith.intelligence.selectors import best as read
    from kith.server.redact import without_hidden

    user = require(request, "viewer")
    return without_hidden(user, read(as_of=q.as_of, limit=q.limit, kind=q.kind))


@router.get("/at-risk", response={200: list[AtRiskOut], **READ_ERRORS})
def at_risk(request: HttpRequest, q: Query[RankQuery]) -> Any:
    """Organisations and people whose health is low or falling, with the reasons."""
    from kith.intelligence.selectors import at_risk as read
    from kith.server.redact import without_hidden

    user = require(request, "viewer")
    return without_hidden(user, read(as_of=q.as_of, limit=q.limit, kind=q.kind))
