"""JSON API for pipelines and deals: the CLI's commands, one service or selector call each."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kith.accounts.selectors import viewer_of
from kith.pipelines import dashboards, selectors, services
from kith.pipelines import funnel as funnels
from kith.pipelines.schemas import (
    DashboardOut,
    DashboardViewOut,
    DealOut,
    DealsOut,
    FunnelOut,
    PipelineOut,
)
from kith.server.auth import acting, require
from kith.server.schemas import READ_ERRORS, WRITE_ERRORS

router = Router(tags=["pipelines"])
Ref = Field(..., max_length=320)


class StageIn(Schema):
    key: str = Field(..., max_length=40)
    probability: float = Field(..., ge=0, le=100, description="per cent")
    category: str = Field("open", max_length=4, description="open, won or lost")


class PipelineIn(Schema):
    type: str = Field(..., max_length=40)
    key: str = Field(..., max_length=40)
    label: str | None = Field(None, max_length=200)
    stages: list[StageIn] = Field(..., max_length=50)
    lost_reasons: list[str] = Field(default_factory=list, max_length=50)
    lost_reason_required: bool = False


class PipelinesQuery(Schema):
    type: str | None = Field(None, max_length=40)


class ContactIn(Schema):
    ref: str = Ref
    role: str = Field("", max_length=40)


class DealIn(Schema):
    account: str = Ref
    name: str = Field(..., max_length=200)
    amount: float = Field(..., ge=0)
    currency: str | None = Field(None, max_length=3)
    close: dt.date | None = None
    owner: str | None = Field(None, max_length=320)
    contacts: list[ContactIn] = Field(default_factory=list, max_length=50)
    source: str | None = Field(None, max_length=100)
    stage: str | None = Field(None, max_length=40)
    pipeline: str | None = Field(None, max_length=40)
    at: dt.datetime | None = None


class DealsQuery(Schema):
    pipeline: str | None = Field(None, max_length=40)
    stage: str | None = Field(None, max_length=40)
    owner: str | None = Field(None, max_length=320)
    as_of: dt.date | None = None
    limit: int = Field(500, ge=1, le=10_000)


class MoveIn(Schema):
    stage: str = Field(..., max_length=40)
    reason: str | None = Field(None, max_length=200)
    note: str = Field("", max_length=1000)
    pipeline: str | None = Field(None, max_length=40)
    at: dt.datetime | None = None


class DealCloseIn(Schema):
    reason: str | None = Field(None, max_length=200)
    at: dt.datetime | None = None


class DashboardIn(Schema):
    key: str = Field(..., max_length=60)
    name: str | None = Field(None, max_length=200)
    widgets: list[dict[str, Any]] | None = Field(None, max_length=24)
    starter: str | None = Field(None, max_length=20, description="sales, support or marketing")
    shared: str = Field("everyone", max_length=10, description="everyone, team or private")
    replace: bool = False


class AsOfQuery(Schema):
    as_of: dt.date | None = None


class FunnelQuery(Schema):
    pipeline: str | None = Field(None, max_length=40)
    from_: dt.date | None = Field(None, alias="from")
    to: dt.date | None = None
    by: str | None = Field(None, max_length=10, description="source or owner")
    value: bool = False
    as_of: dt.date | None = None


@router.get("/pipelines", response={200: list[PipelineOut], **READ_ERRORS})
def pipelines(request: HttpRequest, q: Query[PipelinesQuery]) -> Any:
    """Pipelines with their stages and lost reasons."""
    return selectors.pipelines(viewer_of(require(request, "viewer")), type_key=q.type)


@router.post("/pipelines", response={201: PipelineOut, **WRITE_ERRORS})
def add_pipeline(request: HttpRequest, payload: PipelineIn) -> Any:
    """Add a pipeline for a record type: stages in order (probability in per cent)."""
    with acting(request):
        p = services.add_pipeline(
            type_key=payload.type,
            key=payload.key,
            label=payload.label,
            stages=[(s.key, s.probability / 100, s.category) for s in payload.stages],
            reasons=payload.lost_reasons,
            lost_reason_required=payload.lost_reason_required,
        )
    return Status(201, selectors.pipeline_view(p))


@router.get("/deals", response={200: DealsOut, **READ_ERRORS})
def deals(request: HttpRequest, q: Query[DealsQuery]) -> Any:
    """Deals at their stage now or as of a day, newest move first."""
    viewer = viewer_of(require(request, "viewer"))
    return selectors.positions(
        viewer, pipeline=q.pipeline, stage=q.stage, owner=q.owner, as_of=q.as_of, limit=q.limit
    )


@router.post("/deals", response={201: DealOut, **WRITE_ERRORS}, by_alias=True)
def add_deal(request: HttpRequest, payload: DealIn) -> Any:
    """Add a deal for an account, with its people and their buying roles."""
    with acting(request) as user:
        viewer = viewer_of(user)
        deal = services.add_deal(
            viewer=viewer,
            account=payload.account,
            name=payload.name,
            amount=payload.amount,
            currency=payload.currency,
            close=payload.close,
            owner=payload.owner,
            contacts=[(c.ref, c.role) for c in payload.contacts],
            source=payload.source,
            stage=payload.stage,
            pipeline=payload.pipeline,
            at=payload.at,
        )
        return Status(201, selectors.deal_view(viewer, deal.id))


@router.get("/deals/{ref}", response={200: DealOut, **READ_ERRORS}, by_alias=True)
def deal(request: HttpRequest, ref: str) -> Any:
    """A deal: account, people and roles, stage, amounts, stage history."""
    return selectors.deal_view(viewer_of(require(request, "viewer")), ref)


@router.post("/deals/{ref}/moves", response={201: DealOut, **WRITE_ERRORS}, by_alias=True)
def move(request: HttpRequest, ref: str, payload: MoveIn) -> Any:
    """Move a deal (or any record in a pipeline) to a stage."""
    with acting(request) as user:
        viewer = viewer_of(user)
        c = services.move(
            viewer=viewer,
            ref=ref,
            stage=payload.stage,
            pipeline=payload.pipeline,
            reason=payload.reason,
            note=payload.note,
            at=payload.at,
        )
        return Status(201, selectors.deal_view(viewer, c.record_id))


@router.post("/deals/{ref}/win", response={201: DealOut, **WRITE_ERRORS}, by_alias=True)
def win(request: HttpRequest, ref: str, payload: DealCloseIn) -> Any:
    """Mark a deal won."""
    with acting(request) as user:
        viewer = viewer_of(user)
        c = services.win(viewer=viewer, ref=ref, reason=payload.reason, at=payload.at)
        return Status(201, selectors.deal_view(viewer, c.record_id))


@router.post("/deals/{ref}/lose", response={201: DealOut, **WRITE_ERRORS}, by_alias=True)
def lose(request: HttpRequest, ref: str, payload: DealCloseIn) -> Any:
    """Mark a deal lost, with a lost reason."""
    with acting(request) as user:
        viewer = viewer_of(user)
        c = services.lose(viewer=viewer, ref=ref, reason=payload.reason, at=payload.at)
        return Status(201, selectors.deal_view(viewer, c.record_id))


@router.get("/funnel", response={200: FunnelOut, **READ_ERRORS}, by_alias=True)
def funnel(request: HttpRequest, q: Query[FunnelQuery]) -> Any:
    """The funnel from stage history (``by=owner``: the caller's and their reports' only)."""
    return funnels.funnel(
        viewer_of(require(request, "viewer")),
        pipeline=q.pipeline,
        start=q.from_,
        end=q.to,
        by=q.by,
        value=q.value,
        as_of=q.as_of,
    )


@router.get("/dashboards", response={200: list[DashboardOut], **READ_ERRORS})
def list_dashboards(request: HttpRequest) -> Any:
    """The dashboards the caller may open (definitions)."""
    return dashboards.dashboards(viewer_of(require(request, "viewer")))


@router.post("/dashboards", response={201: DashboardOut, **WRITE_ERRORS})
def save_dashboard(request: HttpRequest, payload: DashboardIn) -> Any:
    """Save a dashboard owned by the caller: widgets, or a starter."""
    with acting(request) as user:
        d = services.save_dashboard(
            key=payload.key,
            name=payload.name,
            widgets=payload.widgets,
            starter=payload.starter,
            owner=user.username,
            shared=payload.shared,
            replace=payload.replace,
        )
    return Status(201, dashboards.definition(d))


@router.get("/dashboards/{key}", response={200: DashboardViewOut, **READ_ERRORS})
def dashboard(request: HttpRequest, key: str, q: Query[AsOfQuery]) -> Any:
    """A dashboard computed for the caller as of a day, widget by widget."""
    return dashboards.dashboard_view(viewer_of(require(request, "viewer")), key, as_of=q.as_of)
