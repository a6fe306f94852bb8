"""Reads of connected mail accounts and calendars, given a Viewer: a user sees their own."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from kith.capture.models import Block, Calendar, MailAccount, MailFolder
from kith.core.viewer import Viewer


def _mine(qs: QuerySet[Any], viewer: Viewer) -> QuerySet[Any]:
    return qs if viewer.sees_everything else qs.filter(owner_id=viewer.user_id)


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _status(s: Any) -> dict[str, Any]:
    return {
        "id": s.id,
        "url": s.url,
        "owner": s.owner.username if s.owner_id else None,
        "status": s.status,
        "error": s.last_error,
        "failures": s.failures,
        "last_sync_at": _when(s.last_sync_at),
        "next_attempt_at": _when(s.next_attempt_at),
        "last_counts": s.last_counts,
    }


def mail_accounts(viewer: Viewer) -> list[dict[str, Any]]:
    """The mail accounts ``viewer`` may see, with each folder's position (two queries)."""
    accounts = list(
        _mine(MailAccount.objects.select_related("owner"), viewer).order_by("created_at", "id")
    )
    folders: dict[str, list[dict[str, Any]]] = {}
    for f in MailFolder.objects.filter(account__in=[a.id for a in accounts]).order_by("id"):
        folders.setdefault(f.account_id, []).append(
            {
                "name": f.name,
                "uidvalidity": f.uidvalidity,
                "last_uid": f.last_uid,
                "uidnext": f.uidnext,
                "highestmodseq": f.highestmodseq,
                "messages": f.seen,
                "resets": f.resets,
            }
        )
    out = []
    for a in accounts:
        row = _status(a)
        row.update(
            folders=a.folders,
            headers_only=a.headers_only,
            since_days=a.since_days,
            security=a.security,
            auth=a.auth,
            positions=folders.get(a.id, []),
        )
        out.append(row)
    return out


def calendars(viewer: Viewer) -> list[dict[str, Any]]:
    """The calendars ``viewer`` may see, with their sync state."""
    out = []
    qs = Calendar.objects.select_related("owner").annotate(n_events=Count("events"))
    for c in _mine(qs, viewer).order_by("created_at", "id"):
        row = _status(c)
        row.update(kind=c.kind, window_days=c.window_days, events=c.n_events)
        out.append(row)
    return out


def blocks(viewer: Viewer) -> list[dict[str, Any]]:
    """Addresses and domains never captured (the workspace's list: everyone may read it)."""
    return [
        {"kind": b.kind, "value": b.value, "created_by": b.created_by}
        for b in Block.objects.order_by("kind", "value")
    ]
