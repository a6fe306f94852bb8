"""Writes of notifications: notify (the one entry point), mark read, preferences, unsubscribe."""

from __future__ import annotations

import json
import re
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from kith.core import clock, jobs
from kith.core.errors import NotFound, ValidationError
from kith.core.events import publish
from kith.core.services import audit
from kith.core.viewer import Viewer
from kith.notifications import mail
from kith.notifications.jobs import send_notification_email, send_plain_email
from kith.notifications.models import Notification, Preference
from kith.notifications.tokens import find_token

KIND_RE = re.compile(r"^[a-z][a-z0-9_.-]{0,59}$")
ADDRESS_RE = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
ALL = "*"


def check_kind(kind: str, *, allow_all: bool = False) -> str:
    """A notification kind (``task.due``, ``rule.fired`` ...), or a clear error."""
    text = (kind or "").strip().lower()
    if allow_all and text == ALL:
        return text
    if not KIND_RE.match(text):
        raise ValidationError(
            f"kind: {kind[:60]!r} is not a kind (lower-case letters, digits, . _ -)", field="kind"
        )
    return text


def _link(link: str) -> str:
    text = (link or "").strip()
    if not text:
        return ""
    if len(text) > 500 or not (
        (text.startswith("/") and not text.startswith("//"))
        or text.startswith(("https://", "http://"))
    ):
        raise ValidationError(
            f"link: {text[:60]!r} must be a path in Kith (/...) or an http(s) URL", field="link"
        )
    return text


def _user(user: User | int) -> User:
    if isinstance(user, User):
        return user
    found = User.objects.filter(pk=user).first()
    if found is None:
        raise NotFound(f"user: no user with id {user}", field="user")
    return found


def effective_preference(user_id: int, kind: str) -> tuple[bool, bool]:
    """(in_app, email) for ``kind``: its own setting, else the user's default, else on."""
    prefs = {p.kind: p for p in Preference.objects.filter(user_id=user_id, kind__in=[kind, ALL])}
    chosen = prefs.get(kind) or prefs.get(ALL)
    return (chosen.in_app, chosen.email) if chosen else (True, True)


@transaction.atomic
def notify(
    *,
    user: User | int,
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    evidence: dict[str, Any] | list[Any] | None = None,
) -> Notification | None:
    """Tell ``user`` something, as their preferences for ``kind`` say; None if they opted out.

    In-app, it shows under the bell; by email, the worker sends it (queued in this
    transaction, so it goes exactly when the change that caused it commits).
    """
    kind = check_kind(kind)
    heading = " ".join((title or "").split())
    if not heading:
        raise ValidationError("title: a notification needs a title", field="title")
    if len(heading) > 200:
        raise ValidationError(f"title: {len(heading)} characters; at most 200", field="title")
    if len(body or "") > 10_000:
        raise ValidationError("body: at most 10,000 characters", field="body")
    try:
        shown_evidence = json.loads(json.dumps(evidence if evidence is not None else {}))
    except (TypeError, ValueError):
        raise ValidationError("evidence: must be JSON (dicts, lists, text, numbers)") from None
    target = _user(user)
    if not target.is_active:
        return None
    in_app, email = effective_preference(target.pk, kind)
    address = target.email or (target.username if "@" in target.username else "")
    email = email and bool(address) and mail.smtp_config() is not None
    if not in_app and not email:
        return None
    n = Notification.objects.create(
        user=target,
        kind=kind,
        title=heading,
        body=body or "",
        link=_link(link),
        evidence=shown_evidence,
        in_app=in_app,
        email=Notification.Email.QUEUED if email else Notification.Email.NONE,
    )
    if email:
        jobs.enqueue(send_notification_email, notification_id=n.pk)
    publish("notification.created", notification_id=n.pk)
    return n


def _mine(viewer: Viewer, notification_id: int) -> Notification:
    n = Notification.objects.filter(
        pk=notification_id, user_id=viewer.user_id or 0, in_app=True
    ).first()
    if n is None:
        raise NotFound(f"notification: no notification {notification_id} of yours")
    return n


def mark_read(*, viewer: Viewer, notification_id: int, read: bool = True) -> Notification:
    """Mark one of the viewer's notifications read (or unread again)."""
    n = _mine(viewer, notification_id)
    n.read_at = (n.read_at or clock.now()) if read else None
    Notification.objects.filter(pk=n.pk).update(read_at=n.read_at)
    return n


def mark_all_read(*, viewer: Viewer) -> int:
    """Mark every unread notification of the viewer read; returns how many."""
    if viewer.user_id is None:
        return 0
    return Notification.objects.filter(
        user_id=viewer.user_id, in_app=True, read_at__isnull=True
    ).update(read_at=clock.now())


@transaction.atomic
def set_preference(
    *, viewer: Viewer, kind: str, in_app: bool | None = None, email: bool | None = None
) -> Preference:
    """Set the viewer's in-app and/or email choice for ``kind`` (``*``: their default)."""
    if viewer.user_id is None:
        raise ValidationError("user: preferences belong to a signed-in user", field="user")
    kind = check_kind(kind, allow_all=True)
    current_in_app, current_email = effective_preference(viewer.user_id, kind)
    pref, _ = Preference.objects.get_or_create(
        user_id=viewer.user_id,
        kind=kind,
        defaults={"in_app": current_in_app, "email": current_email},
    )
    if in_app is not None:
        pref.in_app = in_app
    if email is not None:
        pref.email = email
    pref.updated_at = clock.now()
    pref.save(update_fields=["in_app", "email", "updated_at"])
    return pref


@transaction.atomic
def unsubscribe(*, token: str) -> dict[str, str]:
    """One-click unsubscribe (RFC 8058): stop the email of the token's kind (or all email)."""
    row = find_token(token)
    if row is None:
        raise NotFound("token: this unsubscribe link is not valid (it may be from another Kith)")
    kinds = [row.kind]
    if row.kind == ALL:
        kinds += list(Preference.objects.filter(user_id=row.user_id).values_list("kind", flat=True))
    for kind in dict.fromkeys(kinds):
        pref, _ = Preference.objects.get_or_create(user_id=row.user_id, kind=kind)
        if pref.email:
            pref.email = False
            pref.updated_at = clock.now()
            pref.save(update_fields=["email", "updated_at"])
    type(row).objects.filter(pk=row.pk).update(used_at=clock.now())
    audit("notifications.unsubscribe", actor=row.user.get_username(), target=row.kind)
    return {"user": row.user.get_username(), "kind": row.kind}


def send_email(*, to: str, subject: str, body: str = "") -> str:
    """Queue one email to ``to`` (not a notification: a rule's email action); returns the
    worker job's id. It is sent when the caller's transaction commits, retried on refusal."""
    address = (to or "").strip()
    if not ADDRESS_RE.match(address) or len(address) > 254:
        raise ValidationError(f"to: {address[:80]!r} is not an email address", field="to")
    heading = " ".join((subject or "").split())
    if not heading or len(heading) > 200:
        raise ValidationError("subject: give a subject of at most 200 characters", field="subject")
    if len(body or "") > 100_000:
        raise ValidationError("body: at most 100,000 characters", field="body")
    if mail.smtp_config() is None:
        raise ValidationError("KITH_SMTP_URL is not set: Kith cannot send email", field="to")
    return jobs.enqueue(send_plain_email, to=address, subject=heading, body=body or "")
