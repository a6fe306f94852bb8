"""JSON API for tasks and keep-in-touch cadences (/api/v1/tasks, /cadences, /due)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kith.accounts.selectors import get_user, viewer_of
from kith.core.errors import Conflict, ValidationError
from kith.records.selectors import resolve
from kith.server.auth import acting, require
from kith.server.schemas import READ_ERRORS, WRITE_ERRORS
from kith.tasks import cadence_selectors as csel
from kith.tasks import cadence_services as csvc
from kith.tasks import selectors, services
from kith.tasks.schemas import CadenceOut, SuggestionOut, TaskChangeOut, TaskOut, TaskPage

router = Router(tags=["tasks"])


class TaskIn(Schema):
    title: str = Field(..., max_length=300)
    notes: str = Field("", max_length=100_000)
    due: str | None = Field(None, max_length=40, description="YYYY-MM-DD (or with THH:MM)")
    due_time: str | None = Field(None, max_length=10, description="HH:MM, the owner's zone")
    owner: str | None = Field(None, max_length=254, description="A user's email (default: you)")
    about: list[str] = Field(default_factory=list, max_length=50, description="Record refs")
    priority: str = Field("normal", max_length=10, description="low, normal, high, urgent")
    repeat: str | None = Field(None, max_length=500, description="An RRULE: FREQ=WEEKLY;...")
    party: str = Field("ours", max_length=10, description="ours, or theirs (their promise)")
    complete_on: str | None = Field(
        None, max_length=40, description="Complete on a two-way interaction of this kind"
    )
    dedupe_key: str = Field("", max_length=200, description="Update the open task with it")


class TaskPatch(Schema):
    set: dict[str, str | None] = Field(
        ..., description="title, notes, due, due_time, owner, priority, party, repeat"
    )
    version: int | None = Field(None, description="The version you read; stale -> 409")


class VersionIn(Schema):
    version: int | None = Field(None, description="The version you read; stale -> 409")


class SnoozeIn(VersionIn):
    until: str = Field(..., max_length=40, description="YYYY-MM-DD")


class TaskFilters(Schema):
    mine: bool = Field(False, description="Only yours")
    owner: str | None = Field(None, max_length=254, description="Only this user's (email)")
    about: str | None = Field(None, max_length=320, description="Only those about a record")
    overdue: bool = False
    due_before: dt.date | None = None
    status: str = Field("open", max_length=10, description="open, snoozed, done, cancelled, all")
    party: str | None = Field(None, max_length=10, description="ours or theirs")
    as_of: dt.date | None = Field(None, description="Today is this day")
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=500)


class CadenceIn(Schema):
    ref: str = Field(..., max_length=320, description="A person or organisation")
    every: int = Field(..., description="Ideal days between contacts")
    max: int | None = Field(None, description="Most days before overdue (default 1.5 x)")
    member: str | None = Field(None, max_length=320, description="One of our people")
    counts: str | None = Field(None, max_length=10, description="team or member")
    contact: str | None = Field(None, max_length=10, description="two_way or any")


class PauseIn(Schema):
    until: str | None = Field(None, max_length=40, description="YYYY-MM-DD; null resumes")


class DueFilters(Schema):
    member: str | None = Field(None, max_length=320, description="One of our people")
    as_of: dt.date | None = None


class CadenceAsOf(Schema):
    as_of: dt.date | None = None


def _one(user: Any, task_id: str) -> dict[str, Any]:
    return selectors.task_detail(viewer_of(user), task_id)


@router.get("/tasks", response={200: TaskPage, **READ_ERRORS})
def list_tasks(request: HttpRequest, filters: Query[TaskFilters]) -> Any:
    """Tasks you may see (none about a record hidden from you), soonest due first."""
    user = require(request, "viewer")
    viewer = viewer_of(user)
    if filters.mine and filters.owner:
        raise ValidationError("mine: give mine or owner, not both", field="mine")
    owner = (
        user.pk
        if filters.mine
        else get_user(filters.owner, field="owner").pk
        if filters.owner
        else None
    )
    items, nxt = selectors.tasks_for(
        viewer,
        owner=owner,
        about=resolve(viewer, filters.about, field="about") if filters.about else None,
        overdue=filters.overdue,
        due_before=filters.due_before,
        status=filters.status,
        as_of=filters.as_of,
        party=filters.party,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": items, "next_cursor": nxt}


@router.post("/tasks", response={201: TaskOut, **WRITE_ERRORS})
def add_task(request: HttpRequest, payload: TaskIn) -> Any:
    """Add a task (owner: you unless named); with a ``dedupe_key`` an open one is updated."""
    with acting(request) as user:
        task = services.create_task(
            viewer=viewer_of(user),
            title=payload.title,
            notes=payload.notes,
            due=payload.due,
            due_time=payload.due_time,
            owner=payload.owner or user,
            about=payload.about,
            priority=payload.priority,
            repeat=payload.repeat,
            party=payload.party,
            complete_on=payload.complete_on,
            dedupe_key=payload.dedupe_key,
        )
    return Status(201, _one(user, task.id))


@router.get("/tasks/{task_id}", response={200: TaskOut, **READ_ERRORS})
def get_task(request: HttpRequest, task_id: str) -> Any:
    """One task."""
    return _one(require(request, "viewer"), task_id)


@router.get("/tasks/{task_id}/history", response={200: list[TaskChangeOut], **READ_ERRORS})
def task_history(request: HttpRequest, task_id: str) -> Any:
    """A task's history, oldest first (a self-completed one names the interaction)."""
    return selectors.task_history(viewer_of(require(request, "viewer")), task_id)


def _guarded(user: Any, task_id: str, write: Any) -> Any:
    """Run ``write``; a stale version answers 409 with the task as it is now."""
    try:
        write()
    except Conflict as exc:
        if exc.field == "version":
            exc.current = _one(user, task_id)  # type: ignore[attr-defined]
        raise
    return _one(user, task_id)


@router.patch("/tasks/{task_id}", response={200: TaskOut, **WRITE_ERRORS})
def edit_task(request: HttpRequest, task_id: str, payload: TaskPatch) -> Any:
    """Change a task's fields; send the ``version`` you read (stale: 409)."""
    with acting(request) as user:
        return _guarded(
            user,
            task_id,
            lambda: services.edit_task(
                viewer=viewer_of(user),
                task_id=task_id,
                changes=payload.set,
                expected_version=payload.version,
            ),
        )


@router.post("/tasks/{task_id}/done", response={200: TaskOut, **WRITE_ERRORS})
def complete_task(request: HttpRequest, task_id: str, version: int | None = None) -> Any:
    """Mark a task done (a repeating one opens its next occurrence)."""
    with acting(request) as user:
        return _guarded(
            user,
            task_id,
            lambda: services.complete_task(
                viewer=viewer_of(user), task_id=task_id, expected_version=version
            ),
        )


@router.post("/tasks/{task_id}/reopen", response={200: TaskOut, **WRITE_ERRORS})
def reopen_task(request: HttpRequest, task_id: str, version: int | None = None) -> Any:
    """Open a done or cancelled task again."""
    with acting(request) as user:
        return _guarded(
            user,
            task_id,
            lambda: services.reopen_task(
                viewer=viewer_of(user), task_id=task_id, expected_version=version
            ),
        )


@router.post("/tasks/{task_id}/cancel", response={200: TaskOut, **WRITE_ERRORS})
def cancel_task(request: HttpRequest, task_id: str, version: int | None = None) -> Any:
    """Cancel a task."""
    with acting(request) as user:
        return _guarded(
            user,
            task_id,
            lambda: services.cancel_task(
                viewer=viewer_of(user), task_id=task_id, expected_version=version
            ),
        )


@router.post("/tasks/{task_id}/snooze", response={200: TaskOut, **WRITE_ERRORS})
def snooze_task(request: HttpRequest, task_id: str, payload: SnoozeIn) -> Any:
    """Hide an open task from the lists until a day."""
    with acting(request) as user:
        return _guarded(
            user,
            task_id,
            lambda: services.snooze_task(
                viewer=viewer_of(user),
                task_id=task_id,
                until=payload.until,
                expected_version=payload.version,
            ),
        )


@router.get("/cadences", response={200: list[CadenceOut], **READ_ERRORS})
def list_cadences(request: HttpRequest, filters: Query[CadenceAsOf]) -> Any:
    """Every keep-in-touch cadence you may see, with where it stands."""
    return csel.list_cadences(viewer_of(require(request, "viewer")), as_of=filters.as_of)


@router.get("/cadences/suggestions", response={200: list[SuggestionOut], **READ_ERRORS})
def suggest(request: HttpRequest, filters: Query[CadenceAsOf]) -> Any:
    """Suggested cadences from each relationship's usual rhythm, with the evidence."""
    return csel.suggestions(viewer_of(require(request, "viewer")), as_of=filters.as_of)


@router.post("/cadences", response={200: CadenceOut, **WRITE_ERRORS})
def set_cadence(request: HttpRequest, payload: CadenceIn) -> Any:
    """Keep in touch every N days (counted from the last two-way contact); set again changes it."""
    with acting(request) as user:
        viewer = viewer_of(user)
        cadence = csvc.set_cadence(
            viewer=viewer,
            ref=payload.ref,
            every=payload.every,
            max_days=payload.max,
            member=payload.member,
            counts=payload.counts,
            contact=payload.contact,
            owner=user,
        )
    return _cadence(viewer, cadence.id)


def _cadence(viewer: Any, cadence_id: str) -> dict[str, Any]:
    cadence = csel.get_cadence(viewer, cadence_id)
    views = csel.list_cadences(viewer, record=cadence.record)
    return next(v for v in views if v["id"] == cadence_id)


@router.post("/cadences/{cadence_id}/pause", response={200: CadenceOut, **WRITE_ERRORS})
def pause_cadence(request: HttpRequest, cadence_id: str, payload: PauseIn) -> Any:
    """Pause a cadence until a day (``until`` null: resume now)."""
    with acting(request) as user:
        csvc.pause_cadence(viewer=viewer_of(user), ref=cadence_id, until=payload.until)
    return _cadence(viewer_of(user), cadence_id)


@router.post("/cadences/{cadence_id}/task", response={200: TaskOut, **WRITE_ERRORS})
def cadence_task(request: HttpRequest, cadence_id: str) -> Any:
    """Open (or update) the cadence's task now."""
    with acting(request) as user:
        task = csvc.open_cadence_task(viewer=viewer_of(user), ref=cadence_id)
    return _one(user, task.id)


@router.delete("/cadences/{cadence_id}", response={204: None, **WRITE_ERRORS})
def remove_cadence(request: HttpRequest, cadence_id: str) -> Any:
    """Stop keeping in touch (its open task is cancelled)."""
    with acting(request) as user:
        csvc.remove_cadence(viewer=viewer_of(user), ref=cadence_id)
    return Status(204, None)


@router.get("/due", response={200: list[CadenceOut], **READ_ERRORS})
def due(request: HttpRequest, filters: Query[DueFilters]) -> Any:
    """Who is due or overdue for contact, with the last contact and why."""
    viewer = viewer_of(require(request, "viewer"))
    member = csel.check_member(viewer, filters.member)
    return csel.due(viewer, as_of=filters.as_of, member=member)
