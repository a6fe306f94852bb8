"""Response shapes of the tasks API: tasks, their history, cadences, due and suggestions."""

from __future__ import annotations

from typing import Any

from kith.server.schemas import Out, PersonRef, Ref


class TaskOut(Out):
    id: str
    title: str
    notes: str
    due: str | None = None
    due_time: str | None = None
    overdue: bool
    owner: str | None = None
    status: str
    snoozed_until: str | None = None
    priority: str
    party: str
    source: str
    source_ref: str | None = None
    dedupe_key: str | None = None
    repeat: str | None = None
    complete_on: dict[str, Any] | None = None
    about: list[Ref]
    completed_at: str | None = None
    evidence: str | None = None
    created_by: str
    created_at: str
    version: int


class TaskPage(Out):
    items: list[TaskOut]
    next_cursor: str | None = None


class TaskChangeOut(Out):
    at: str
    action: str
    actor: str
    old: Any = None
    new: Any = None
    note: str | None = None


class CadenceOut(Out):
    id: str
    record: Ref
    member: PersonRef | None = None
    every: int
    max: int
    counts: str
    contact: str
    paused_until: str | None = None
    owner: str | None = None
    last_contact: str | None = None
    due_on: str
    overdue_on: str
    status: str
    band: str
    reason: str
    version: int


class SuggestionEvidence(Out):
    two_way_days: int
    two_way: int
    first: str
    last: str


class SuggestionOut(Out):
    record: Ref
    every: int
    max: int
    suggestion: bool
    evidence: SuggestionEvidence
    why: str
