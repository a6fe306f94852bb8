"""Schemas shared by the API routers: errors, pages, record/relationship/interaction shapes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Out(BaseModel):
    """Response shapes are plain pydantic models over dicts: cheaper than ninja.Schema,
    whose ORM getter runs per attribute (a third of a 100-relationship response)."""

    model_config = ConfigDict(populate_by_name=True)


class ErrorOut(Out):
    code: str
    message: str
    field: str | None = None


class ConflictOut(ErrorOut):
    current: dict[str, Any] | None = None


class Ref(Out):
    id: str
    name: str
    type: str


class RecordSummaryOut(Out):
    id: str
    type: str
    name: str
    email: str | None = None
    phone: str | None = None
    deleted: bool
    private: bool = False


class RecordOut(Out):
    id: str
    type: str
    name: str
    fields: dict[str, Any]
    emails: list[str]
    phones: list[str]
    domains: list[str]
    urls: list[str]
    version: int
    created_at: str
    updated_at: str
    deleted_at: str | None = None
    merged_into: str | None = None
    private: bool = False
    owner: str | None = None


class RecordPage(Out):
    items: list[RecordSummaryOut]
    next_cursor: str | None = None


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
    note: str
    source: str
    other: Ref | None = None


class RelationshipPage(Out):
    items: list[RelationshipOut]
    next_cursor: str | None = None


class PersonRef(Out):
    id: str
    name: str


class ParticipantOut(Out):
    id: str
    name: str
    role: str


class InteractionOut(Out):
    id: str
    kind: str
    at: str
    duration: int | None = None
    subject: str
    direction: str | None = None
    sentiment: float | None = None
    score: float | None = None
    outcome: str | None = None
    external_id: str | None = None
    thread_id: str | None = None
    participants: list[ParticipantOut]
    links: list[PersonRef]
    via: PersonRef | None = None


class InteractionPage(Out):
    items: list[InteractionOut]
    next_cursor: str | None = None


class ChangeOut(Out):
    id: int
    at: str
    actor: str
    entity_id: str
    entity_kind: str
    action: str
    field: str
    old: Any = None
    new: Any = None
    note: str


class ChangePage(Out):
    items: list[ChangeOut]
    next_cursor: str | None = None


# status -> schema for the errors every authenticated endpoint may answer
READ_ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    414: None,  # the HTTP server's answer to a request line too long (no JSON body)
    422: ErrorOut,
    429: ErrorOut,
}
WRITE_ERRORS: dict[int, Any] = {**READ_ERRORS, 400: ErrorOut, 409: ConflictOut}
