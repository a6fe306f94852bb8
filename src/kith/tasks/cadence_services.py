"""Writes of keep-in-touch cadences, and the scan that opens tasks for the overdue ones.

``scan_cadences(as_of)`` is the periodic job: one query for every cadence's last contact
(``cadence_selectors.last_contacts``), one for the open cadence tasks, then bulk writes;
its cost grows with the cadences, not with the interactions. Each cadence's task has the
dedupe key ``cadence:<id>``, so a second scan updates it instead of opening another.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from kith.core import clock, counters
from kith.core.bulk import ChangeRow, execute_many, insert_changes, time_adapter, to_json
from kith.core.context import current_actor
from kith.core.errors import Conflict, ValidationError
from kith.core.events import publish
from kith.core.ids import new_id
from kith.core.parse import parse_date
from kith.core.services import audit, record_change
from kith.core.viewer import SYSTEM, Viewer
from kith.records.models import Record
from kith.records.selectors import resolve
from kith.tasks import cadence_selectors as sel
from kith.tasks.models import Cadence, Contact, Counts, Source, Status, Task, TaskLink
from kith.tasks.services import create_task

MAX_DAYS = 3650
_TYPES = ("person", "organization")


def _days(value: Any, *, field: str) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{field}: {value!r} is not a number of days", field=field) from None
    if isinstance(value, float) and value != days:
        raise ValidationError(f"{field}: {value!r} is not a whole number of days", field=field)
    if days <= 0:
        raise ValidationError(f"{field}: {value!r} must be a positive number of days", field=field)
    if days > MAX_DAYS:
        raise ValidationError(f"{field}: {value!r} is more than {MAX_DAYS} days", field=field)
    return days


def _choice(value: str | None, allowed: list[str], *, field: str, default: str) -> str:
    text = (value or default).strip().lower().replace("-", "_")
    if text not in allowed:
        raise ValidationError(f"{field}: {value!r} is not one of {', '.join(allowed)}", field=field)
    return text


def _view(c: Cadence) -> dict[str, Any]:
    return {
        "record": c.record_id,
        "member": c.member_id,
        "every": c.ideal_days,
        "max": c.max_days,
        "counts": c.counts,
        "contact": c.contact,
        "paused_until": c.paused_until,
    }


@transaction.atomic
def set_cadence(
    *,
    viewer: Viewer,
    ref: str | Record,
    every: Any,
    max_days: Any = None,
    member: str | None = None,
    counts: str | None = None,
    contact: str | None = None,
    owner: User | None = None,
) -> Cadence:
    """Keep in touch with a person or organisation every ``every`` days (red after
    ``max_days``, default 1.5 x), for one of our people or the whole team; an existing
    cadence on the same record and member is changed."""
    ideal = _days(every, field="every")
    most = _days(max_days, field="max") if max_days not in (None, "") else round(ideal * 1.5)
    if most < ideal:
        raise ValidationError(
            f"max: {max_days!r} is less than every ({ideal}); the maximum is at least the ideal",
            field="max",
        )
    record = ref if isinstance(ref, Record) else resolve(viewer, ref, field="ref")
    if record.type_id not in _TYPES:
        raise ValidationError(
            f"ref: {record.name} is a {record.type_id}; cadences are for people and organisations",
            field="ref",
        )
    who = sel.check_member(viewer, member)
    if who is not None and who.id == record.id:
        raise ValidationError(f"member: {member!r} is the record itself", field="member")
    counts_v = _choice(
        counts, list(Counts.values), field="counts", default="member" if who else "team"
    )
    if counts_v == Counts.MEMBER and who is None:
        raise ValidationError("counts: 'member' needs a --member", field="counts")
    contact_v = _choice(contact, list(Contact.values), field="contact", default="two_way")
    existing = (
        Cadence.objects.select_for_update().filter(record=record, member=who).first()
        if who
        else Cadence.objects.select_for_update().filter(record=record, member__isnull=True).first()
    )
    if existing is not None:
        before = _view(existing)
        existing.ideal_days, existing.max_days = ideal, most
        existing.counts, existing.contact = counts_v, contact_v
        existing.version += 1
        existing.updated_at = clock.now()
        existing.save()
        record_change(
            entity_id=existing.id,
            entity_kind="cadence",
            action="update",
            old=before,
            new=_view(existing),
        )
        counters.bump(sel.VERSION)
        audit("cadence.changed", target=record.id, detail={"id": existing.id, "every": ideal})
        return existing
    cadence = Cadence(
        id=new_id("cad"),
        record=record,
        member=who,
        ideal_days=ideal,
        max_days=most,
        counts=counts_v,
        contact=contact_v,
        owner=owner,
        created_by=current_actor()[:254],
    )
    try:
        with transaction.atomic():
            cadence.save(force_insert=True)
    except IntegrityError:
        raise Conflict(
            f"ref: {record.name} got a cadence from someone else just now; try again", field="ref"
        ) from None
    record_change(entity_id=cadence.id, entity_kind="cadence", action="create", new=_view(cadence))
    counters.bump(sel.VERSION)
    audit(
        "cadence.set",
        target=record.id,
        detail={"id": cadence.id, "every": ideal, "max": most, "member": who.id if who else None},
    )
    return cadence


@transaction.atomic
def pause_cadence(
    *, viewer: Viewer, ref: str, until: str | dt.date | None, member: str | None = None
) -> Cadence:
    """Pause a cadence until a day (None: resume it now)."""
    day = parse_date(until, field="until")
    if day is not None and day <= clock.local_today():
        raise ValidationError(f"until: {day.isoformat()} is not in the future", field="until")
    cadence = sel.get_cadence(viewer, ref, member=sel.check_member(viewer, member))
    before = _view(cadence)
    cadence.paused_until = day
    cadence.version += 1
    cadence.updated_at = clock.now()
    cadence.save()
    record_change(
        entity_id=cadence.id,
        entity_kind="cadence",
        action="pause" if day else "resume",
        old=before,
        new=_view(cadence),
    )
    counters.bump(sel.VERSION)
    audit(
        "cadence.paused",
        target=cadence.record_id,
        detail={"id": cadence.id, "until": day.isoformat() if day else None},
    )
    return cadence


@transaction.atomic
def remove_cadence(*, viewer: Viewer, ref: str, member: str | None = None) -> str:
    """Stop keeping in touch: remove the cadence, cancel its open task; returns its id."""
    cadence = sel.get_cadence(viewer, ref, member=sel.check_member(viewer, member))
    cid = cadence.id
    record_change(entity_id=cid, entity_kind="cadence", action="delete", old=_view(cadence))
    counters.bump(sel.VERSION)
    audit("cadence.removed", target=cadence.record_id, detail={"id": cid})
    Task.objects.filter(dedupe_key=_key(cid), status=Status.OPEN).update(
        status=Status.CANCELLED, completed_at=clock.now(), completed_by=current_actor()[:254]
    )
    cadence.delete()
    return cid


def _key(cadence_id: str) -> str:
    return f"cadence:{cadence_id}"


def _title(s: sel.CadenceState) -> str:
    return f"Get in touch with {s.cadence.record_name}"


@transaction.atomic
def open_cadence_task(*, viewer: Viewer, ref: str, member: str | None = None) -> Task:
    """Open (or update) the task of one cadence now, whatever its state."""
    cadence = sel.get_cadence(viewer, ref, member=sel.check_member(viewer, member))
    found = [s for s in sel.states(viewer, record=cadence.record) if s.cadence.id == cadence.id]
    state = found[0] if found else sel.state_of(sel.row_of(cadence), None, clock.today())
    return create_task(
        viewer=viewer,
        title=_title(state),
        due=state.overdue_on if state.last else clock.local_today(),
        owner=cadence.owner,
        about=[cadence.record],
        notes=state.reason,
        source="cadence",
        source_ref=cadence.id,
        dedupe_key=_key(cadence.id),
    )


_TASK_COLUMNS = (
    "id",
    "title",
    "notes",
    "due",
    "due_key",
    "owner_id",
    "status",
    "priority",
    "party",
    "source",
    "source_ref",
    "dedupe_key",
    "repeat",
    "created_by",
    "created_at",
    "updated_at",
    "version",
    "completed_by",
    "evidence",
    "previous",
)


@transaction.atomic
def scan_cadences(as_of: dt.date | None = None) -> dict[str, int]:
    """Open or update a task for every overdue cadence; close the tasks of cadences that
    are back in touch (done, the contact as the reason) or paused (cancelled).

    Set-based: three reads (cadences, their last contacts, the open cadence tasks) and
    multi-row writes whatever the number of cadences; one audit entry for the scan.
    """
    day = as_of or clock.today()
    now = clock.now()
    at = time_adapter()(now)
    actor = current_actor()[:150]
    states = sel.states(SYSTEM, as_of=day, fresh=True)
    open_tasks = {
        key: (tid, due, notes, version)
        for tid, key, due, notes, version in Task.objects.filter(
            source=Source.CADENCE, status=Status.OPEN
        )
        .exclude(dedupe_key="")
        .values_list("id", "dedupe_key", "due", "notes", "version")
    }
    new_rows: list[tuple[Any, ...]] = []
    links: list[tuple[str, str]] = []
    changed: list[Task] = []
    closed: list[Task] = []
    history: list[ChangeRow] = []
    for s in states:
        key = _key(s.cadence.id)
        found = open_tasks.get(key)
        due_day = s.overdue_on if s.last else day
        if s.status == sel.OVERDUE:
            if found is None:
                tid = new_id("tsk")
                new_rows.append(
                    (
                        tid,
                        _title(s),
                        s.reason,
                        due_day,
                        due_day,
                        s.cadence.owner_id,
                        "open",
                        3,
                        "ours",
                        "cadence",
                        s.cadence.id,
                        key,
                        "",
                        actor,
                        at,
                        at,
                        1,
                        "",
                        "",
                        "",
                    )
                )
                links.append((tid, s.cadence.record_id))
                history.append(_entry(tid, "create", None, {"due": due_day}, actor, at, key))
            elif found[1] != due_day or found[2] != s.reason:
                tid, old, _, version = found
                changed.append(
                    Task(
                        id=tid,
                        due=due_day,
                        due_key=due_day,
                        notes=s.reason,
                        version=version + 1,
                        updated_at=now,
                    )
                )
                history.append(
                    _entry(tid, "update", {"due": old}, {"due": due_day}, actor, at, key)
                )
        elif found is not None and s.status in (sel.OK, sel.DUE, sel.PAUSED):
            back = s.status != sel.PAUSED
            status = Status.DONE if back else Status.CANCELLED
            tid, _, _, version = found
            closed.append(
                Task(
                    id=tid,
                    status=status,
                    completed_at=now,
                    completed_by=actor,
                    version=version + 1,
                    updated_at=now,
                )
            )
            note = f"back in touch: {s.reason}" if back else s.reason
            action = "done" if back else "cancel"
            history.append(_entry(tid, action, None, {"status": status}, actor, at, note))
    execute_many(Task, _TASK_COLUMNS, new_rows)
    execute_many(TaskLink, ("task_id", "record_id"), links)
    fields = ["due", "due_key", "notes", "version", "updated_at"]
    Task.objects.bulk_update(changed, fields, batch_size=500)
    fields = ["status", "completed_at", "completed_by", "version", "updated_at"]
    Task.objects.bulk_update(closed, fields, batch_size=500)
    insert_changes(history)
    counts = {
        "cadences": len(states),
        "overdue": sum(1 for s in states if s.status == sel.OVERDUE),
        "opened": len(new_rows),
        "updated": len(changed),
        "closed": len(closed),
    }
    audit("cadences.scanned", target=day.isoformat(), detail=counts)
    for row in new_rows:
        publish("task.created", task_id=row[0])
    for task in changed:
        publish("task.updated", task_id=task.id)
    for task in closed:
        publish("task.done" if task.status == Status.DONE else "task.cancelled", task_id=task.id)
    return counts


def _entry(
    task_id: str,
    action: str,
    old: dict[str, Any] | None,
    new: dict[str, Any],
    actor: str,
    at: Any,
    note: str,
) -> ChangeRow:
    return (
        task_id,
        "task",
        action,
        "",
        to_json(old) if old else None,
        to_json(new),
        actor,
        at,
        f"keep in touch: {note}"[:300],
    )
