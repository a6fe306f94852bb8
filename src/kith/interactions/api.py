"""JSON API for interactions and timelines."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kith.accounts.selectors import viewer_of
from kith.core.limits import MAX_PARTICIPANTS
from kith.interactions import services
from kith.interactions.schemas import InteractionCorrected, InteractionOut, InteractionPage
from kith.interactions.selectors import (
    check_correctable,
    interaction_detail,
    interaction_record_view,
    interactions_page,
    parse_timeline_cursor,
    timeline_cursor,
)
from kith.interactions.selectors import timeline as read
from kith.interactions.services import check_participants
from kith.interactions.services import log_interaction as log
from kith.records.selectors import resolve
from kith.server.auth import acting, require
from kith.server.schemas import READ_ERRORS, WRITE_ERRORS

router = Router(tags=["interactions"])


class ParticipantIn(Schema):
    ref: str = Field(..., max_length=320, description="Record id, unique email or exact name")
    role: str | None = Field(None, max_length=20, description="from, to, cc, attendee ...")


class InteractionIn(Schema):
    kind: str = Field(..., max_length=40, description="email, call, meeting, note ...")
    participants: list[ParticipantIn] = Field(
        default_factory=list, description=f"At most {MAX_PARTICIPANTS}"
    )
    links: list[str] = Field(default_factory=list, max_length=100)
    at: dt.datetime | None = None
    subject: str = Field("", max_length=500)
    body: str = Field("", max_length=100_000)
    direction: str | None = Field(None, max_length=10)
    sentiment: float | None = Field(None, ge=-1, le=1)
    score: float | None = Field(None, ge=-1e9, le=1e9)
    outcome: str = Field("", max_length=200)
    external_id: str | None = Field(None, max_length=500)
    duration: int | None = Field(None, ge=0, le=10_000_000)
    thread_id: str = Field("", max_length=500)
    source: str = Field("", max_length=200)
    meta: dict[str, Any] = Field(default_factory=dict)


class InteractionFilters(Schema):
    record: str | None = Field(None, max_length=320, description="Participant or linked record")
    kind: str | None = Field(None, max_length=40)
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    sort: str = Field("-at", description="at or -at")
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=500)


class TimelineFilters(Schema):
    kind: list[str] = Field(default_factory=list, description="Only these kinds (repeatable)")
    before: dt.datetime | None = Field(None, description="Older than this moment")
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=500)


class LoggedOut(InteractionOut):
    created: bool


@router.post("/interactions", response={201: LoggedOut, 200: LoggedOut, **WRITE_ERRORS})
def log_interaction(request: HttpRequest, payload: InteractionIn) -> Any:
    """Log an interaction; the same ``external_id`` again returns the first one (200)."""
    with acting(request) as user:
        check_participants(len(payload.participants))
        people = [
            (resolve(viewer_of(user), p.ref, field="participants").id, p.role)
            for p in payload.participants
        ]
        links = [resolve(viewer_of(user), ref, field="links").id for ref in payload.links]
        interaction, created = log(
            kind=payload.kind,
            participants=people,
            links=links,
            at=payload.at,
            subject=payload.subject,
            body=payload.body,
            direction=payload.direction,
            sentiment=payload.sentiment,
            score=payload.score,
            outcome=payload.outcome,
            external_id=payload.external_id,
            duration=payload.duration,
            thread_id=payload.thread_id,
            source=payload.source,
            meta=payload.meta,
        )
    view = {**interaction_detail(viewer_of(user), interaction.id), "created": created}
    return Status(201 if created else 200, view)


class InteractionPatch(Schema):
    set: dict[str, Any] = Field(
        ...,
        description="kind, at, subject, body, direction, sentiment, score or outcome: new values",
    )
    version: int | None = Field(None, description="The version you read: a 409 if it moved")


@router.patch(
    "/interactions/{interaction_id}", response={200: InteractionCorrected, **WRITE_ERRORS}
)
def edit_interaction(request: HttpRequest, interaction_id: str, payload: InteractionPatch) -> Any:
    """Correct an interaction; history keeps the old values, scores and timelines follow."""
    with acting(request) as user:
        key = check_correctable(viewer_of(user), interaction_id)
        found = services.edit_interaction(
            interaction_id=key, values=payload.set, expected_version=payload.version
        )
    return interaction_record_view(viewer_of(user), found)


@router.delete(
    "/interactions/{interaction_id}", response={200: InteractionCorrected, **WRITE_ERRORS}
)
def delete_interaction(request: HttpRequest, interaction_id: str) -> Any:
    """Delete an interaction (restorable): it leaves every timeline, score and count."""
    with acting(request) as user:
        key = check_correctable(viewer_of(user), interaction_id)
        found = services.delete_interaction(interaction_id=key)
    return interaction_record_view(viewer_of(user), found)


@router.post(
    "/interactions/{interaction_id}/restore",
    response={200: InteractionCorrected, **WRITE_ERRORS},
)
def restore_interaction(request: HttpRequest, interaction_id: str) -> Any:
    """Restore a deleted interaction with its participants and links."""
    with acting(request) as user:
        key = check_correctable(viewer_of(user), interaction_id)
        found = services.restore_interaction(interaction_id=key)
    return interaction_record_view(viewer_of(user), found)


@router.get("/interactions", response={200: InteractionPage, **READ_ERRORS})
def list_interactions(request: HttpRequest, filters: Query[InteractionFilters]) -> Any:
    """Interactions, newest first; filter by record, kind and time."""
    user = require(request, "viewer")
    record = resolve(viewer_of(user), filters.record, field="record") if filters.record else None
    items, nxt = interactions_page(
        viewer_of(user),
        record=record,
        kind=filters.kind,
        since=filters.since,
        until=filters.until,
        sort=filters.sort,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": items, "next_cursor": nxt}


@router.get("/interactions/{interaction_id}", response={200: InteractionOut, **READ_ERRORS})
def get_interaction(request: HttpRequest, interaction_id: str) -> Any:
    """One interaction with its participants and links."""
    user = require(request, "viewer")
    return interaction_detail(viewer_of(user), interaction_id)


@router.get("/records/{ref}/timeline", response={200: InteractionPage, **READ_ERRORS})
def timeline(request: HttpRequest, ref: str, filters: Query[TimelineFilters]) -> Any:
    """A record's interactions, newest first (an organisation's include its people's)."""
    viewer = viewer_of(require(request, "viewer"))
    record = resolve(viewer, ref)
    older_than = parse_timeline_cursor(filters.cursor) if filters.cursor else None
    views = read(
        viewer,
        record,
        limit=filters.limit,
        before=filters.before,
        older_than=older_than,
        kinds=filters.kind,
    )
    nxt = timeline_cursor(views[-1]) if len(views) == filters.limit else None
    return {"items": views, "next_cursor": nxt}
