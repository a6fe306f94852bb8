"""Reads of tasks, given a Viewer: a task about a record the viewer may not see is not
there for them (not listed, not counted, not found), decided in the query."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from kith.core import clock
from kith.core.context import current_actor
from kith.core.errors import NotFound, ValidationError
from kith.core.models import Change
from kith.core.paging import keyset
from kith.core.viewer import Viewer
from kith.records.models import Record
from kith.records.selectors import hidden_records
from kith.tasks.models import Status, Task, TaskLink
from kith.tasks.values import PRIORITY_NAMES

STATUSES = ("open", "snoozed", "done", "cancelled", "all")


def visible_tasks(viewer: Viewer) -> QuerySet[Task]:
    """Tasks none of whose records is hidden from ``viewer``."""
    qs = Task.objects.all()
    if viewer.sees_everything:
        return qs
    hidden = TaskLink.objects.filter(task=OuterRef("pk"), record__in=hidden_records(viewer))
    return qs.filter(~Exists(hidden))


def get_task(viewer: Viewer, task_id: str) -> Task:
    """One task ``viewer`` may see; a hidden one is as missing as an unknown id."""
    text = (task_id or "").strip()
    task = visible_tasks(viewer).select_related("owner").filter(pk=text).first() if text else None
    if task is None:
        raise NotFound(f"id: no task {task_id!r}", field="id")
    return task


def _status_q(status: str, day: dt.date) -> Q:
    snoozed = Q(snoozed_until__gt=day)
    if status == "open":
        return Q(status=Status.OPEN) & ~snoozed
    if status == "snoozed":
        return Q(status=Status.OPEN) & snoozed
    if status in (Status.DONE, Status.CANCELLED):
        return Q(status=status)
    if status == "all":
        return Q()
    raise ValidationError(f"status: {status!r} is not one of {', '.join(STATUSES)}", field="status")


def _filtered(
    viewer: Viewer,
    *,
    owner: int | None = None,
    about: Record | None = None,
    overdue: bool = False,
    due_before: dt.date | None = None,
    status: str = "open",
    as_of: dt.date | None = None,
    party: str | None = None,
) -> QuerySet[Task]:
    day = as_of or clock.local_today()
    qs = visible_tasks(viewer).filter(_status_q(status, day))
    if owner is not None:
        qs = qs.filter(owner_id=owner)
    if about is not None:
        qs = qs.filter(Exists(TaskLink.objects.filter(task=OuterRef("pk"), record=about)))
    if overdue:
        qs = qs.filter(status=Status.OPEN, due__lt=day).exclude(snoozed_until__gt=day)
    if due_before is not None:
        qs = qs.filter(due__lt=due_before)
    if party:
        qs = qs.filter(party=party)
    return qs


def tasks_for(
    viewer: Viewer,
    *,
    owner: int | None = None,
    about: Record | None = None,
    overdue: bool = False,
    due_before: dt.date | None = None,
    status: str = "open",
    as_of: dt.date | None = None,
    party: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of tasks, soonest due first (undated last): ``(views, next_cursor)``.

    ``owner`` is a user id; ``about`` a record (already resolved for ``viewer``); ``overdue``
    open tasks due before ``as_of`` (default: today in the user's zone) and not snoozed;
    ``status`` open (not snoozed), snoozed, done, cancelled or all.
    """
    day = as_of or clock.local_today()
    qs = _filtered(
        viewer,
        owner=owner,
        about=about,
        overdue=overdue,
        due_before=due_before,
        status=status,
        as_of=day,
        party=party,
    )
    rows, nxt = keyset(
        _with_links(viewer, qs), field="due_key", desc=False, cursor=cursor, limit=limit
    )
    return [task_view(t, as_of=day) for t in rows], nxt


def count_tasks(
    viewer: Viewer,
    *,
    owner: int | None = None,
    about: Record | None = None,
    overdue: bool = False,
    status: str = "open",
    as_of: dt.date | None = None,
) -> int:
    """How many tasks match (only those ``viewer`` may see)."""
    return _filtered(
        viewer, owner=owner, about=about, overdue=overdue, status=status, as_of=as_of
    ).count()


def task_counts(
    viewer: Viewer, *, owner: int | None = None, as_of: dt.date | None = None
) -> dict[str, int]:
    """Open, overdue and due-today counts in one query (the home page's)."""
    day = as_of or clock.local_today()
    qs = _filtered(viewer, owner=owner, status="open", as_of=day)
    got = qs.aggregate(
        open=Count("pk"),
        overdue=Count("pk", filter=Q(due__lt=day)),
        today=Count("pk", filter=Q(due=day)),
    )
    return {k: int(v or 0) for k, v in got.items()}


def _with_links(viewer: Viewer, qs: QuerySet[Task]) -> QuerySet[Task]:
    links = TaskLink.objects.select_related("record").order_by("id")
    return qs.select_related("owner").prefetch_related(Prefetch("links", queryset=links))


def task_view(task: Task, *, as_of: dt.date | None = None) -> dict[str, Any]:
    """The JSON form of a task (its links prefetched)."""
    day = as_of or clock.local_today()
    snoozed = bool(task.snoozed_until and task.snoozed_until > day)
    return {
        "id": task.id,
        "title": task.title,
        "notes": task.notes,
        "due": task.due.isoformat() if task.due else None,
        "due_time": task.due_time.isoformat(timespec="minutes") if task.due_time else None,
        "overdue": bool(task.status == Status.OPEN and task.due and task.due < day and not snoozed),
        "owner": task.owner.username if task.owner_id and task.owner else None,
        "status": task.status,
        "snoozed_until": task.snoozed_until.isoformat() if task.snoozed_until else None,
        "priority": PRIORITY_NAMES.get(task.priority, str(task.priority)),
        "party": task.party,
        "source": task.source,
        "source_ref": task.source_ref or None,
        "dedupe_key": task.dedupe_key or None,
        "repeat": task.repeat or None,
        "complete_on": task.complete_on,
        "about": [
            {"id": link.record.id, "name": link.record.name, "type": link.record.type_id}
            for link in task.links.all()
        ],
        "completed_at": task.completed_at.isoformat() if task.completed_at else None,
        "evidence": task.evidence or None,
        "created_by": task.created_by,
        "created_at": task.created_at.isoformat(),
        "version": task.version,
    }


def task_detail(viewer: Viewer, task_id: str) -> dict[str, Any]:
    """One task as ``viewer`` may see it, with its links."""
    task = get_task(viewer, task_id)
    return task_view(_with_links(viewer, Task.objects.filter(pk=task.pk)).get())


def task_history(viewer: Viewer, task_id: str) -> list[dict[str, Any]]:
    """A task's history, oldest first: who changed what, and why (evidence in the note)."""
    task = get_task(viewer, task_id)
    rows = Change.objects.filter(entity_id=task.id, entity_kind="task").order_by("at", "id")
    return [
        {
            "at": c.at.isoformat(),
            "action": c.action,
            "actor": c.actor,
            "old": c.old,
            "new": c.new,
            "note": c.note or None,
        }
        for c in rows
    ]


def acting_user() -> User | None:
    """The Kith user who is acting (``KITH_USER`` / the signed-in user), if there is one."""
    return User.objects.filter(username=current_actor().strip().lower(), is_active=True).first()
