"""Reads of notifications: the viewer's own, newest first, and their preferences."""

from __future__ import annotations

from typing import Any

from kith.core.paging import keyset
from kith.core.viewer import Viewer
from kith.notifications.models import Notification, Preference

# Kinds offered on the preferences page before a user has had one (other apps add theirs
# with ``describe_kind``); kinds a user has received are offered too.
KIND_LABELS: dict[str, str] = {
    "task.assigned": "A task was given to you",
    "task.due": "A task of yours is due",
    "cadence.overdue": "Keep-in-touch overdue",
    "rule.notify": "A rule told you",
}


def describe_kind(kind: str, label: str) -> None:
    """Offer ``kind`` on the preferences page, with ``label`` (call at import time)."""
    KIND_LABELS.setdefault(kind, label)


def notification_view(n: Notification) -> dict[str, Any]:
    """The JSON form of one notification."""
    return {
        "id": n.pk,
        "kind": n.kind,
        "title": n.title,
        "body": n.body,
        "link": n.link,
        "evidence": n.evidence,
        "created_at": n.created_at.isoformat(),
        "read_at": n.read_at.isoformat() if n.read_at else None,
        "read": n.read_at is not None,
        "email": n.email,
        "email_error": n.email_error,
    }


def notifications_page(
    viewer: Viewer, *, unread: bool = False, cursor: str | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], str | None]:
    """The viewer's in-app notifications, newest first, one page after ``cursor``."""
    rows = Notification.objects.filter(user_id=viewer.user_id or 0, in_app=True)
    if unread:
        rows = rows.filter(read_at__isnull=True)
    page, nxt = keyset(rows, field="created_at", desc=True, cursor=cursor, limit=limit)
    return [notification_view(n) for n in page], nxt


def unread_count(viewer: Viewer) -> int:
    """How many of the viewer's in-app notifications are unread (the bell's number)."""
    if viewer.user_id is None:
        return 0
    return Notification.objects.filter(
        user_id=viewer.user_id, in_app=True, read_at__isnull=True
    ).count()


def preferences(viewer: Viewer) -> dict[str, Any]:
    """The viewer's default and per-kind choices, every offered or received kind listed."""
    uid = viewer.user_id or 0  # the system has no notifications of its own
    mine = {p.kind: p for p in Preference.objects.filter(user_id=uid)}
    default = mine.get("*")
    base = (default.in_app, default.email) if default else (True, True)
    received = set(
        Notification.objects.filter(user_id=uid)
        .order_by()
        .values_list("kind", flat=True)
        .distinct()
    )
    kinds = sorted(set(KIND_LABELS) | received | (set(mine) - {"*"}))
    return {
        "default": {"in_app": base[0], "email": base[1]},
        "kinds": [
            {
                "kind": kind,
                "label": KIND_LABELS.get(kind, kind),
                "in_app": mine[kind].in_app if kind in mine else base[0],
                "email": mine[kind].email if kind in mine else base[1],
                "own": kind in mine,
            }
            for kind in kinds
        ],
    }
