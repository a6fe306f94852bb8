"""Response shapes of the interactions API: interactions and timelines."""

from __future__ import annotations

from kith.server.schemas import Out, PersonRef


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
    planned: bool = False


class InteractionCorrected(InteractionOut):
    version: int
    deleted_at: str | None = None


class InteractionPage(Out):
    items: list[InteractionOut]
    next_cursor: str | None = None
