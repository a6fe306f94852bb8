"""JSON API for relationship types and relationships (from either end, as of any date)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kith.accounts.selectors import viewer_of
from kith.core.paging import offset_page
from kith.records.selectors import resolve
from kith.relationships import selectors as relationships_selectors
from kith.relationships import services as relationships_services
from kith.relationships.schemas import RelationshipOut, RelationshipPage
from kith.relationships.selectors import list_types as types
from kith.relationships.selectors import (
    relations_view,
    relationship_view,
    relationships_page,
    visible_relationship,
)
from kith.relationships.services import end_relationship as end
from kith.server.auth import acting, require
from kith.server.schemas import READ_ERRORS, WRITE_ERRORS

router = Router(tags=["relationships"])


class RelTypeOut(Schema):
    key: str
    inverse: str | None = None
    symmetric: bool
    from_types: list[str]
    to_types: list[str]
    rollup: bool
    builtin: bool


class RelTypeIn(Schema):
    name: str = Field(..., max_length=60)
    inverse: str | None = Field(None, max_length=60)
    symmetric: bool = False
    from_types: list[str] = Field(default_factory=list, max_length=20)
    to_types: list[str] = Field(default_factory=list, max_length=20)
    rollup: bool = False


class RelationshipIn(Schema):
    a: str = Field(..., max_length=320, description="Record id, unique email or exact name")
    type: str = Field(..., max_length=60, description="A type or its inverse name: a TYPE b")
    b: str = Field(..., max_length=320)
    role: str = Field("", max_length=200)
    since: dt.date | None = None
    until: dt.date | None = None
    note: str = Field("", max_length=5000)
    source: str = Field("", max_length=200)


class EndIn(Schema):
    on: dt.date | None = Field(None, description="First day it no longer holds; default today")


class RelFilters(Schema):
    record: str | None = Field(None, max_length=320, description="Only this record's")
    type: str | None = Field(None, max_length=60)
    as_of: dt.date | None = Field(None, description="Only those in force on this day")
    sort: str = Field("created_at", description="created_at or id; prefix - to reverse")
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=500)


class RecordRelFilters(Schema):
    as_of: dt.date | None = None
    type: str | None = Field(None, max_length=60, description="A type or inverse name")
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(100, ge=1, le=500)


@router.get("/relationship-types", response={200: list[RelTypeOut], **READ_ERRORS})
def list_types(request: HttpRequest) -> Any:
    """Every relationship type with its inverse name and allowed record types."""
    require(request, "viewer")
    return types()


@router.post("/relationship-types", response={201: RelTypeOut, **WRITE_ERRORS})
def add_type(request: HttpRequest, payload: RelTypeIn) -> Any:
    """Define a relationship type with an inverse name, or symmetric (admins)."""
    with acting(request, "admin"):
        rtype = relationships_services.add_type(
            name=payload.name,
            inverse=payload.inverse,
            symmetric=payload.symmetric,
            from_types=payload.from_types,
            to_types=payload.to_types,
            rollup=payload.rollup,
        )
    return Status(201, next(t for t in types() if t["key"] == rtype.key))


@router.get("/relationships", response={200: RelationshipPage, **READ_ERRORS}, by_alias=True)
def list_relationships(request: HttpRequest, filters: Query[RelFilters]) -> Any:
    """Relationships between records you may see; filter by record, type and date."""
    user = require(request, "viewer")
    record = resolve(viewer_of(user), filters.record, field="record") if filters.record else None
    items, nxt = relationships_page(
        viewer_of(user),
        record=record,
        type_key=filters.type,
        as_of=filters.as_of,
        sort=filters.sort,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": items, "next_cursor": nxt}


@router.post("/relationships", response={201: RelationshipOut, **WRITE_ERRORS}, by_alias=True)
def relate(request: HttpRequest, payload: RelationshipIn) -> Any:
    """Relate two records: ``a TYPE b`` (an inverse name reads the other way)."""
    with acting(request) as user:
        a = resolve(viewer_of(user), payload.a, field="a")
        b = resolve(viewer_of(user), payload.b, field="b")
        rel = relationships_services.relate(
            a=a.id,
            type_name=payload.type,
            b=b.id,
            role=payload.role,
            since=payload.since,
            until=payload.until,
            note=payload.note,
            source=payload.source,
        )
    return Status(
        201,
        relationships_selectors.relationship_view(relationships_selectors.get_relationship(rel.id)),
    )


def _visible_relationship(user: Any, rel_id: str) -> Any:
    return visible_relationship(viewer_of(user), rel_id)


@router.get(
    "/relationships/{rel_id}", response={200: RelationshipOut, **READ_ERRORS}, by_alias=True
)
def get_relationship(request: HttpRequest, rel_id: str) -> Any:
    """One relationship."""
    user = require(request, "viewer")
    return relationship_view(_visible_relationship(user, rel_id))


@router.post(
    "/relationships/{rel_id}/end", response={200: RelationshipOut, **WRITE_ERRORS}, by_alias=True
)
def end_relationship(request: HttpRequest, rel_id: str, payload: EndIn) -> Any:
    """End a relationship on a day (default today); it stays in the history."""
    with acting(request) as user:
        rel = end(rel_id=_visible_relationship(user, rel_id).id, on=payload.on)
    return relationships_selectors.relationship_view(
        relationships_selectors.get_relationship(rel.id)
    )


@router.get(
    "/records/{ref}/relationships", response={200: RelationshipPage, **READ_ERRORS}, by_alias=True
)
def record_relationships(request: HttpRequest, ref: str, filters: Query[RecordRelFilters]) -> Any:
    """A record's relationships from its side, active first; ``as_of`` for any date."""
    viewer = viewer_of(require(request, "viewer"))
    record = resolve(viewer, ref)
    rows = relations_view(viewer, record, as_of=filters.as_of, type_name=filters.type)
    items, nxt = offset_page(rows, cursor=filters.cursor, limit=filters.limit)
    return {"items": items, "next_cursor": nxt}
