"""What a rule does, each through the owning app's services (history and audit name the rule).

Every action returns a JSON result for the run's trace (``status`` done or skipped, with
what it wrote or why not) or raises a ``KithError`` (the run fails, its writes roll back).
The rule acts as the system, but nothing it makes for a person shows them a record they
may not see: a notification, email or task for a user who cannot see the record is
skipped, and the trace says so.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model

from kith.accounts.selectors import get_user, viewer_of
from kith.core import clock
from kith.core.errors import NotFound, ValidationError
from kith.core.viewer import SYSTEM
from kith.interactions.services import log_interaction
from kith.notifications.services import notify as notify_service
from kith.notifications.services import send_email
from kith.records.models import Record
from kith.records.selectors import can_see, resolve
from kith.records.services import update_record
from kith.records.tags import tag_records
from kith.relationships.models import Relationship
from kith.relationships.selectors import active_on
from kith.relationships.services import end_relationship, relate
from kith.rules.models import Rule, RuleRun
from kith.rules.spec import render
from kith.tasks.services import create_task as create_task_service
from kith.webhooks.outbox import enqueue_to


@dataclasses.dataclass
class Step:
    """One action of one run: the rule, the run, its record, the action's spec."""

    rule: Rule
    run: RuleRun
    record: Record | None
    action: dict[str, Any]
    index: int
    context: dict[str, Any]

    def text(self, key: str, default: str = "") -> str:
        """An action's text with its placeholders filled."""
        value = self.action.get(key, default)
        return render(str(value), self.context) if value is not None else default

    def need_record(self) -> Record:
        if self.record is None:
            raise ValidationError(
                f"actions[{self.index}]: {self.action['do']} needs a record, and this run has none",
                field=f"actions[{self.index}]",
            )
        return self.record

    @property
    def source(self) -> str:
        return f"rule:{self.rule.name}"


def _user(step: Step, key: str) -> Any:
    ref = step.action[key]
    if ref == "record.owner":
        record = step.need_record()
        if record.owner_id is None:
            return None
        return get_user_model().objects.filter(pk=record.owner_id).first()
    try:
        return get_user(str(ref), field=f"actions[{step.index}].{key}")
    except NotFound:
        raise
    except ValidationError as exc:
        raise NotFound(exc.message, field=exc.field) from None


def _hidden(step: Step, user: Any) -> str | None:
    """Why ``user`` may not be told about the run's record (None: they may)."""
    if step.record is None:
        return None
    viewer = viewer_of(user)
    if not getattr(user, "is_active", False):
        return f"{user.username} is disabled"
    if not can_see(viewer, step.record):
        return f"{user.username} cannot see {step.record.id}; nothing was sent to them"
    return None


def create_task(step: Step) -> dict[str, Any]:
    record = step.need_record()
    owner = _user(step, "owner") if "owner" in step.action else None
    if owner is not None and (why := _hidden(step, owner)):
        return {"status": "skipped", "reason": why}
    due = None
    if "due_in_days" in step.action:
        due = clock.local_today() + dt.timedelta(days=int(step.action["due_in_days"]))
    task = create_task_service(
        viewer=SYSTEM,
        title=step.text("title"),
        due=due,
        owner=owner,
        about=[record.id],
        priority=step.action.get("priority", "normal"),
        notes=step.text("notes"),
        source="rule",
        source_ref=step.rule.id,
        dedupe_key=f"rule:{step.rule.id}:{record.id}:{step.index}",
    )
    return {"status": "done", "task": task.id, "title": task.title}


def notify(step: Step) -> dict[str, Any]:
    user = _user(step, "user")
    if user is None:
        return {"status": "skipped", "reason": "the record has no owner to notify"}
    if why := _hidden(step, user):
        return {"status": "skipped", "reason": why, "user": user.username}
    record = step.record
    made = notify_service(
        user=user,
        kind="rule.fired",
        title=step.text("title"),
        body=step.text("body"),
        link=f"/records/{record.id}" if record is not None else "",
        evidence={
            "rule": step.rule.name,
            "run": step.run.id,
            "record": record.id if record else "",
        },
    )
    if made is None:
        return {"status": "skipped", "reason": f"{user.username} turned rule notifications off"}
    return {"status": "done", "user": user.username, "notification": made.pk}


def email(step: Step) -> dict[str, Any]:
    """Email through the notifications' mail job: a Kith user (or the record's owner), who
    must be able to see the record, or an outside address when the record is not private."""
    to = str(step.action["to"]).strip()
    user = None
    if to == "record.owner":
        user = _user(step, "to")
        if user is None:
            return {"status": "skipped", "reason": "the record has no owner to email"}
    else:
        user = get_user_model().objects.filter(username__iexact=to).first()
    if user is not None:
        if why := _hidden(step, user):
            return {"status": "skipped", "reason": why, "to": user.username}
        to = user.email or user.username
    elif step.record is not None and step.record.private:
        return {
            "status": "skipped",
            "reason": f"{step.record.id} is private; it is mailed only to users who can see it",
        }
    job = send_email(to=to, subject=step.text("subject"), body=step.text("body"))
    return {"status": "done", "to": to, "job": job}


def webhook(step: Step) -> dict[str, Any]:
    event = str(step.action.get("event") or "rule.fired")
    record = step.record
    data = {
        "rule": step.rule.name,
        "run": step.run.id,
        "record_id": record.id if record else None,
        "trigger": step.context["event"],
    }
    delivery = enqueue_to(str(step.action["webhook"]), event, data)
    return {"status": "done", "delivery": delivery.id, "event": event}


def set_field(step: Step) -> dict[str, Any]:
    record = step.need_record()
    value = step.action["value"]
    if isinstance(value, str):
        value = step.text("value")
    name = step.action["field"]
    old = record.fields.get(name)
    updated = update_record(ref=record.id, values={name: value})
    step.record = updated
    return {"status": "done", "field": name, "from": old, "to": updated.fields.get(name)}


def add_tag(step: Step) -> dict[str, Any]:
    record = step.need_record()
    tag = step.text("tag").strip()
    if not tag_records(records=[record], tags=[tag], field=f"actions[{step.index}].tag"):
        return {"status": "done", "tag": tag, "already": True}
    step.record = Record.objects.get(pk=record.pk)
    return {"status": "done", "tag": tag}


def start_relationship(step: Step) -> dict[str, Any]:
    record = step.need_record()
    rel = relate(
        a=record.id,
        type_name=step.action["type"],
        b=step.text("with"),
        role=step.text("role"),
        source=step.source,
        if_exists="return",
        b_field=f"actions[{step.index}].with",
    )
    return {"status": "done", "relationship": rel.id}


def end_relationship_action(step: Step) -> dict[str, Any]:
    record = step.need_record()
    event = step.context["event"]
    if "with" not in step.action and event.get("relationship_id"):
        rel_id = event["relationship_id"]
        rel = Relationship.objects.filter(pk=rel_id).first()
        if rel is None or rel.until is not None:
            return {"status": "skipped", "reason": f"{rel_id} has already ended"}
        end_relationship(rel_id=rel_id)
        return {"status": "done", "relationship": rel_id}
    other = (
        resolve(SYSTEM, step.text("with"), field=f"actions[{step.index}].with")
        if step.action.get("with")
        else None
    )
    open_rels = Relationship.objects.filter(
        active_on(clock.today()),
        type__key=step.action["type"],
        from_record_id=record.id,
    )
    if other is not None:
        open_rels = open_rels.filter(to_record_id=other.id)
    if step.action.get("role"):
        open_rels = open_rels.filter(role__iexact=step.text("role"))
    ended = []
    for rel_id in open_rels.order_by("id").values_list("id", flat=True)[:20]:
        end_relationship(rel_id=rel_id)
        ended.append(rel_id)
    if not ended:
        return {"status": "skipped", "reason": "no open relationship of that type"}
    return {"status": "done", "relationships": ended}


def log_note(step: Step) -> dict[str, Any]:
    record = step.need_record()
    interaction, _ = log_interaction(
        kind="note",
        participants=[(record.id, "mentioned")],
        subject=step.text("subject"),
        body=step.text("body"),
        source=step.source,
    )
    return {"status": "done", "interaction": interaction.id}


ACTIONS: dict[str, Callable[[Step], dict[str, Any]]] = {
    "create_task": create_task,
    "notify": notify,
    "email": email,
    "webhook": webhook,
    "set_field": set_field,
    "add_tag": add_tag,
    "start_relationship": start_relationship,
    "end_relationship": end_relationship_action,
    "log_note": log_note,
}


def run(step: Step) -> dict[str, Any]:
    """Do one action; returns its result for the trace."""
    return ACTIONS[step.action["do"]](step)
