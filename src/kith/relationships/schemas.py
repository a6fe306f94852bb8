"""Response shapes of the relationships API."""

from __future__ import annotations

from pydantic import Field

from kith.server.schemas import Out, Ref


class RelationshipOut(Out):
    id: str
    type: str
    label: str
    from_: Ref = Field(alias="from")
    to: Ref
    role: str
    since: str | None = None
    until: str | None = None
    active: bool
    upcoming: bool = False  # starts after the day asked about: not ended
    note: str
    source: str
    other: Ref | None = None


class RelationshipPage(Out):
    items: list[RelationshipOut]
    next_cursor: str | None = None
