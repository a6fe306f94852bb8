"""Writes of tasks: create (or update by dedupe key), complete, reopen, cancel, snooze, edit.

Every write is one transaction, keeps the task's history (``kith.core.services
.record_change``), is audited and publishes ``task.created`` / ``task.updated`` /
``task.done`` / ``task.reopened`` / ``task.cancelled`` / ``task.snoozed`` with ``task_id``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from kith.accounts.selectors import get_user
from kith.core import clock
from kith.core.context import current_actor
from kith.core.errors import Conflict, ValidationError
from kith.core.events import publish
from kith.core.ids import new_id
from kith.core.parse import parse_date
from kith.core.services import audit, record_change
from kith.core.viewer import Viewer
from kith.intelligence.conf import model_config
from kith.interactions.models import Interaction, InteractionLink, Participant
from kith.interactions.services import log_interaction
from kith.records.models import Record
from kith.records.normalize import refuse_nul
from kith.records.selectors import check_visible, resolve
from kith.relationships.selectors import team_ids
from kith.tasks.models import NO_DUE, Status, Task, TaskLink
from kith.tasks.selectors import get_task
from kith.tasks.values import (
    Commitment,
    next_occurrence,
    parse_condition,
    parse_due,
    parse_party,
    parse_priority,
    parse_repeat,
    parse_source,
    parse_time,
)

MAX_ABOUT = 50
EDITABLE = ("title", "notes", "due", "due_time", "owner", "priority", "party", "repeat")


def _title(value: str) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise ValidationError("title: a task needs a title", field="title")
    if len(text) > 300:
        raise ValidationError(
            f"title: {text[:40]!r}... is longer than 300 characters", field="title"
        )
    return refuse_nul(text, field="title")


def _owner(value: User | str | None) -> User | None:
    if value is None or value == "":
        return None
    if isinstance(value, User):
        return value
    user = get_user(value, field="owner")
    if not user.is_active:
        raise ValidationError(f"owner: user {value!r} is disabled", field="owner")
    return user


def _about(viewer: Viewer, about: Iterable[Record | str]) -> list[Record]:
    out: dict[str, Record] = {}
    for item in about:
        record = (
            check_visible(viewer, item, field="about")
            if isinstance(item, Record)
            else resolve(viewer, item, field="about")
        )
        out.setdefault(record.id, record)
    if len(out) > MAX_ABOUT:
        raise ValidationError(f"about: at most {MAX_ABOUT} records", field="about")
    return list(out.values())


def _snapshot(task: Task) -> dict[str, Any]:
    return {
        "title": task.title,
        "notes": task.notes,
        "due": task.due,
        "due_time": task.due_time.isoformat(timespec="minutes") if task.due_time else None,
        "owner": task.owner.username if task.owner_id and task.owner else None,
        "priority": task.priority,
        "party": task.party,
        "repeat": task.repeat,
        "status": task.status,
        "snoozed_until": task.snoozed_until,
    }


def _save(task: Task, before: dict[str, Any], *, action: str, note: str = "") -> None:
    """Store a changed task: version + 1, one history entry with what changed."""
    after = _snapshot(task)
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    task.version += 1
    task.updated_at = clock.now()
    task.due_key = task.due or NO_DUE
    task.save()
    record_change(
        entity_id=task.id,
        entity_kind="task",
        action=action,
        old={k: before.get(k) for k in changed},
        new=changed,
        note=note,
    )


def _check_version(task: Task, expected: int | None) -> None:
    if expected is not None and task.version != expected:
        raise Conflict(
            f"version: {task.id} is at version {task.version}, not {expected}; "
            "reload it and try again",
            field="version",
        )


def _locked(viewer: Viewer, task_id: str) -> Task:
    """The task, visible to ``viewer``, re-read under the write transaction."""
    task = get_task(viewer, task_id)
    return Task.objects.select_for_update(of=("self",)).select_related("owner").get(pk=task.pk)


@transaction.atomic
def create_task(
    *,
    viewer: Viewer,
    title: str,
    due: str | dt.date | None = None,
    due_time: str | dt.time | None = None,
    owner: User | str | None = None,
    about: Iterable[Record | str] = (),
    priority: str | int | None = "normal",
    notes: str = "",
    repeat: str | None = None,
    party: str = "ours",
    source: str = "manual",
    source_ref: str = "",
    dedupe_key: str = "",
    complete_on: str | Mapping[str, Any] | None = None,
) -> Task:
    """Make a task; with a ``dedupe_key`` already held by an open task, update that one.

    ``about`` are records (or references ``viewer`` may see); ``due`` a day (or day and
    time) in the owner's zone; ``repeat`` an RRULE counted from the due day; ``complete_on``
    a condition that completes it when a matching interaction is logged (``call``).
    """
    day, at_time = parse_due(due, field="due")
    at_time = parse_time(due_time, field="due_time") or at_time
    fields: dict[str, Any] = {
        "title": _title(title),
        "notes": refuse_nul(notes or "", field="notes"),
        "due": day,
        "due_time": at_time if day else None,
        "owner": _owner(owner),
        "priority": parse_priority(priority),
        "party": parse_party(party),
        "source": parse_source(source),
        "source_ref": (source_ref or "")[:200],
        "complete_on": parse_condition(complete_on),
    }
    if at_time and not day:
        raise ValidationError("due_time: a time needs a due date", field="due_time")
    if parse_repeat(repeat, start=day or clock.local_today(), field="repeat") is not None:
        fields["repeat"] = (repeat or "").strip().removeprefix("RRULE:").upper()
        if day is None:
            fields["due"] = clock.local_today()
        fields["repeat_start"] = fields["due"]
    records = _about(viewer, about)
    key = (dedupe_key or "").strip()[:200]
    if key:
        existing = Task.objects.select_for_update().filter(dedupe_key=key, status="open").first()
        if existing is not None:
            return _update_by_key(viewer, existing, fields, records)
    task = Task(
        id=new_id("tsk"),
        dedupe_key=key,
        created_by=current_actor()[:254],
        **fields,
    )
    task.due_key = task.due or NO_DUE
    try:
        with transaction.atomic():
            task.save(force_insert=True)
    except IntegrityError:  # a concurrent writer opened the same key first: update theirs
        existing = Task.objects.select_for_update().filter(dedupe_key=key, status="open").first()
        if not key or existing is None:
            raise
        return _update_by_key(viewer, existing, fields, records)
    TaskLink.objects.bulk_create([TaskLink(task=task, record=r) for r in records])
    record_change(
        entity_id=task.id,
        entity_kind="task",
        action="create",
        new={**_snapshot(task), "about": [r.id for r in records], "source": task.source},
    )
    audit(
        "task.created",
        target=task.id,
        detail={"title": task.title, "source": task.source, "about": [r.id for r in records]},
    )
    publish("task.created", task_id=task.id)
    return task


def _update_by_key(
    viewer: Viewer, task: Task, fields: dict[str, Any], records: Sequence[Record]
) -> Task:
    before = _snapshot(task)
    for name in ("title", "notes", "due", "due_time", "priority", "party", "source_ref"):
        setattr(task, name, fields[name])
    if fields["owner"] is not None:
        task.owner = fields["owner"]
    if fields.get("repeat"):
        task.repeat, task.repeat_start = fields["repeat"], fields["repeat_start"]
    have = set(TaskLink.objects.filter(task=task).values_list("record_id", flat=True))
    TaskLink.objects.bulk_create(
        [TaskLink(task=task, record=r) for r in records if r.id not in have]
    )
    _save(task, before, action="update", note=f"same purpose: {task.dedupe_key}")
    audit("task.updated", target=task.id, detail={"dedupe_key": task.dedupe_key})
    publish("task.updated", task_id=task.id)
    return task


def _spawn_next(task: Task) -> Task | None:
    """A repeating task done or cancelled opens its next occurrence."""
    if not task.repeat or task.due is None:
        return None
    nxt = next_occurrence(task.repeat, after=task.due, start=task.repeat_start or task.due)
    if nxt is None:
        return None
    links = list(TaskLink.objects.filter(task=task).values_list("record_id", flat=True))
    new = Task.objects.create(
        id=new_id("tsk"),
        title=task.title,
        notes=task.notes,
        due=nxt,
        due_key=nxt,
        due_time=task.due_time,
        owner=task.owner,
        priority=task.priority,
        party=task.party,
        source=task.source,
        source_ref=task.source_ref,
        dedupe_key=task.dedupe_key,
        repeat=task.repeat,
        repeat_start=task.repeat_start,
        complete_on=task.complete_on,
        previous=task.id,
        created_by=current_actor()[:254],
    )
    TaskLink.objects.bulk_create([TaskLink(task=new, record_id=rid) for rid in links])
    record_change(
        entity_id=new.id,
        entity_kind="task",
        action="create",
        new={**_snapshot(new), "about": links, "after": task.id},
        note=f"next occurrence of {task.id}",
    )
    publish("task.created", task_id=new.id)
    return new


def _finish(
    task: Task, *, status: str, action: str, note: str = "", evidence: str = ""
) -> Task | None:
    before = _snapshot(task)
    task.status = status
    task.completed_at = clock.now()
    task.completed_by = current_actor()[:254]
    task.evidence = evidence
    task.snoozed_until = None
    _save(task, before, action=action, note=note)
    return _spawn_next(task)


@transaction.atomic
def complete_task(
    *, viewer: Viewer, task_id: str, expected_version: int | None = None, evidence: str = ""
) -> Task:
    """Mark a task done; a repeating one opens its next occurrence. Returns the task."""
    task = _locked(viewer, task_id)
    _check_version(task, expected_version)
    if task.status == Status.DONE:
        return task
    if task.status == Status.CANCELLED:
        raise Conflict(f"status: task {task.id} is cancelled; reopen it first", field="status")
    nxt = _finish(task, status=Status.DONE, action="done", evidence=evidence)
    detail = {"title": task.title, "next": nxt.id if nxt else None}
    if evidence:
        detail["evidence"] = evidence
    audit("task.done", target=task.id, detail=detail)
    publish("task.done", task_id=task.id)
    return task


@transaction.atomic
def cancel_task(*, viewer: Viewer, task_id: str, expected_version: int | None = None) -> Task:
    """Cancel a task (a repeating one opens its next occurrence)."""
    task = _locked(viewer, task_id)
    _check_version(task, expected_version)
    if task.status == Status.CANCELLED:
        return task
    if task.status == Status.DONE:
        raise Conflict(f"status: task {task.id} is done; reopen it first", field="status")
    nxt = _finish(task, status=Status.CANCELLED, action="cancel")
    audit("task.cancelled", target=task.id, detail={"next": nxt.id if nxt else None})
    publish("task.cancelled", task_id=task.id)
    return task


@transaction.atomic
def reopen_task(*, viewer: Viewer, task_id: str, expected_version: int | None = None) -> Task:
    """Open a done or cancelled task again."""
    task = _locked(viewer, task_id)
    _check_version(task, expected_version)
    if task.status == Status.OPEN:
        return task
    if (
        task.dedupe_key
        and Task.objects.filter(dedupe_key=task.dedupe_key, status=Status.OPEN).exists()
    ):
        raise Conflict(
            f"dedupe_key: another open task already serves {task.dedupe_key!r}",
            field="dedupe_key",
        )
    before = _snapshot(task)
    task.status = Status.OPEN
    task.completed_at = None
    task.completed_by = ""
    task.evidence = ""
    _save(task, before, action="reopen")
    audit("task.reopened", target=task.id)
    publish("task.reopened", task_id=task.id)
    return task


@transaction.atomic
def snooze_task(
    *,
    viewer: Viewer,
    task_id: str,
    until: str | dt.date | None,
    expected_version: int | None = None,
) -> Task:
    """Hide an open task from the lists until a day (its due day stays)."""
    day = parse_date(until, field="until")
    if day is None:
        raise ValidationError("until: a snooze needs a date", field="until")
    if day <= clock.local_today():
        raise ValidationError(f"until: {day.isoformat()} is not in the future", field="until")
    task = _locked(viewer, task_id)
    _check_version(task, expected_version)
    if task.status != Status.OPEN:
        raise Conflict(f"status: task {task.id} is {task.status}, not open", field="status")
    before = _snapshot(task)
    task.snoozed_until = day
    _save(task, before, action="snooze")
    audit("task.snoozed", target=task.id, detail={"until": day.isoformat()})
    publish("task.snoozed", task_id=task.id)
    return task


@transaction.atomic
def edit_task(
    *,
    viewer: Viewer,
    task_id: str,
    changes: Mapping[str, Any],
    expected_version: int | None = None,
) -> Task:
    """Change a task's fields (title, notes, due, due_time, owner, priority, party, repeat)."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationError(
            f"set: {unknown[0]!r} is not a task field ({', '.join(EDITABLE)})", field="set"
        )
    task = _locked(viewer, task_id)
    _check_version(task, expected_version)
    before = _snapshot(task)
    if "title" in changes:
        task.title = _title(changes["title"])
    if "notes" in changes:
        task.notes = refuse_nul(str(changes["notes"] or ""), field="notes")
    if "due" in changes:
        day, at_time = parse_due(changes["due"], field="due")
        task.due = day
        if at_time is not None or day is None:
            task.due_time = at_time
    if "due_time" in changes:
        task.due_time = parse_time(changes["due_time"], field="due_time")
    if task.due_time and not task.due:
        raise ValidationError("due_time: a time needs a due date", field="due_time")
    if "owner" in changes:
        task.owner = _owner(changes["owner"])
    if "priority" in changes:
        task.priority = parse_priority(changes["priority"])
    if "party" in changes:
        task.party = parse_party(changes["party"])
    if "repeat" in changes:
        text = str(changes["repeat"] or "").strip()
        if text:
            parse_repeat(text, start=task.due or clock.local_today(), field="repeat")
            task.due = task.due or clock.local_today()
        task.repeat = text.removeprefix("RRULE:").upper()
        task.repeat_start = task.due if text else None
    if _snapshot(task) == before:
        return task
    _save(task, before, action="update")
    audit("task.updated", target=task.id, detail={"fields": sorted(changes)})
    publish("task.updated", task_id=task.id)
    return task


# -- self-completing tasks (interaction.logged) -------------------------------------------


def _is_two_way(interaction: Interaction, record_id: str, roles: dict[str, set[str]]) -> bool:
    """As the intelligence model counts it: a two-way kind, inbound, or from them."""
    return (
        interaction.kind in model_config()["two_way_kinds"]
        or interaction.direction == "in"
        or "from" in roles.get(record_id, set())
    )


def on_interaction_logged(*, interaction_id: str, **_: Any) -> None:
    """Complete the open tasks whose condition this interaction meets, with it as evidence."""
    interaction = Interaction.objects.filter(pk=interaction_id).first()
    if interaction is None:
        return
    roles: dict[str, set[str]] = {}
    for rid, role in Participant.objects.filter(interaction_id=interaction_id).values_list(
        "record_id", "role"
    ):
        if role != "mentioned":
            roles.setdefault(rid, set()).add(role)
    if not roles:
        return
    candidates = (
        Task.objects.filter(
            status=Status.OPEN,
            complete_on__isnull=False,
            links__record_id__in=list(roles),
            created_at__lte=interaction.at,
        )
        .distinct()
        .order_by("id")
    )
    for task in candidates:
        cond = task.complete_on or {}
        if cond.get("kind", "any") not in ("any", interaction.kind):
            continue
        linked = set(TaskLink.objects.filter(task=task).values_list("record_id", flat=True))
        matched = [rid for rid in linked if rid in roles]
        if cond.get("two_way", True) and not any(
            _is_two_way(interaction, rid, roles) for rid in matched
        ):
            continue
        _complete_by(task, interaction)


def _complete_by(task: Task, interaction: Interaction) -> None:
    locked = Task.objects.select_for_update(of=("self",)).select_related("owner").get(pk=task.pk)
    if locked.status != Status.OPEN:
        return
    note = f"completed by {interaction.kind} {interaction.id} on {interaction.at:%Y-%m-%d}"
    nxt = _finish(locked, status=Status.DONE, action="done", note=note, evidence=interaction.id)
    audit(
        "task.done",
        target=locked.id,
        detail={"evidence": interaction.id, "auto": True, "next": nxt.id if nxt else None},
    )
    publish("task.done", task_id=locked.id)


@transaction.atomic
def log_with_commitments(
    *, viewer: Viewer, commitments: Sequence[Commitment], **interaction: Any
) -> tuple[Interaction, bool, list[Task]]:
    """Log an interaction (``log_interaction``'s arguments) and the commitments made in it,
    each a task about its outside participants and linked records; all or nothing."""
    logged, created = log_interaction(**interaction)
    if not created or not commitments:
        return logged, created, []
    team = set(team_ids(logged.at.date()))
    people = list(
        Participant.objects.filter(interaction=logged)
        .exclude(role="mentioned")
        .values_list("record_id", flat=True)
        .distinct()
    )
    linked = list(
        InteractionLink.objects.filter(interaction=logged).values_list("record_id", flat=True)
    )
    about = [r for r in people if r not in team] + linked or people
    records = list(Record.objects.filter(pk__in=about))
    me = User.objects.filter(username=current_actor(), is_active=True).first()
    tasks = [
        create_task(
            viewer=viewer,
            title=c.title,
            due=c.due,
            owner=me,
            about=records,
            party=c.party,
            source_ref=logged.id,
            notes=f"committed in {logged.kind} {logged.id} on {logged.at:%Y-%m-%d}",
        )
        for c in commitments
    ]
    return logged, created, tasks
