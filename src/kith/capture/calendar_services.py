"""Calendar capture: published ICS feeds (conditional GET) become meetings as the ICS
import makes them (``kith.imports.ical.calendar_units`` and the import ``Writer``).

Future events are planned meetings; recurring events expand up to the calendar's window
ahead. An event that moved updates its interaction (history kept); a future event that
left the feed, or was cancelled, removes its planned interaction (restorably); past ones
stay as history. Each sync is one transaction: a feed that fails half-way writes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction

from kith.accounts.selectors import viewer_of
from kith.capture import secrets
from kith.capture.imap import MailError, is_loopback
from kith.capture.mail_services import EVERY, mark_failed, mark_synced
from kith.capture.models import Calendar, CalendarEvent
from kith.core import clock
from kith.core.errors import Conflict, NotFound, ValidationError
from kith.core.events import publish
from kith.core.ids import new_id
from kith.core.services import audit
from kith.core.viewer import SYSTEM, Viewer
from kith.imports.ical import calendar_units
from kith.imports.items import InteractionIn
from kith.imports.writer import Writer
from kith.interactions.models import Interaction
from kith.interactions.services import delete_interaction, edit_interaction

MAX_FEED = 20_000_000  # bytes
TIMEOUT = 30.0


def _check_url(url: str) -> str:
    text = url.strip()
    if text.startswith("webcal://"):
        text = "https://" + text[len("webcal://") :]
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"url: {url!r} is not an http(s) or webcal URL", field="url")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValidationError(
            f"url: {url!r} is plain http: use https (plain http only to loopback)", field="url"
        )
    if parts.password:
        raise ValidationError("url: put no password in the URL (use --password-stdin)", field="url")
    return text


@transaction.atomic
def subscribe(
    *, url: str, owner: Any = None, username: str = "", secret: str = "", window_days: int = 90
) -> Calendar:
    """Subscribe to a published ICS feed (read at the next sync)."""
    text = _check_url(url)
    if not 1 <= window_days <= 730:
        raise ValidationError(f"window: {window_days} days is not 1-730", field="window")
    if Calendar.objects.filter(url=text, owner=owner).exists():
        raise Conflict(f"url: {text} is subscribed already", field="url")
    cal = Calendar.objects.create(
        id=new_id("cal"),
        owner=owner,
        kind="ics",
        url=text,
        username=username,
        secret=secrets.seal(secret) if secret else "",
        window_days=window_days,
    )
    audit("calendar.subscribed", target=cal.id, detail={"url": text})
    return cal


def calendar_for(ref: str, viewer: Viewer) -> Calendar:
    qs = Calendar.objects.all()
    if not viewer.sees_everything:
        qs = qs.filter(owner_id=viewer.user_id)
    found = list(qs.filter(id=ref)) or list(qs.filter(url=ref))
    if not found:
        raise NotFound(f"calendar: no calendar {ref!r}", field="calendar")
    return found[0]


@transaction.atomic
def unsubscribe(*, calendar: Calendar) -> None:
    audit("calendar.removed", target=calendar.id, detail={"url": calendar.url})
    calendar.delete()


def _get(cal: Calendar) -> tuple[int, str, str, str]:
    """(status, text, etag, last-modified) by a conditional GET."""
    import requests  # noqa: PLC0415

    headers = {"Accept": "text/calendar"}
    if cal.etag:
        headers["If-None-Match"] = cal.etag
    if cal.last_modified:
        headers["If-Modified-Since"] = cal.last_modified
    auth = (cal.username, secrets.unseal(cal.secret)) if cal.secret else None
    try:
        resp = requests.get(cal.url, headers=headers, auth=auth, timeout=TIMEOUT, stream=True)
    except requests.exceptions.SSLError as exc:
        raise MailError(f"certificate error from {cal.url}: {exc}", retry=False) from None
    except requests.exceptions.RequestException as exc:
        raise MailError(f"cannot reach {cal.url}: {type(exc).__name__}") from None
    with resp:
        if resp.status_code == 304:
            return 304, "", cal.etag, cal.last_modified
        if resp.status_code in (401, 403):
            raise MailError(f"{cal.url} refused the credentials (HTTP {resp.status_code})",
                            retry=False)  # fmt: skip
        if resp.status_code != 200:
            raise MailError(f"{cal.url} answered HTTP {resp.status_code}")
        body = resp.raw.read(MAX_FEED + 1, decode_content=True)
        if len(body) > MAX_FEED:
            raise MailError(f"{cal.url} is larger than {MAX_FEED:,} bytes", retry=False)
        text = body.decode(resp.encoding or "utf-8", errors="replace")
        return 200, text, resp.headers.get("ETag", ""), resp.headers.get("Last-Modified", "")


def _viewer(cal: Calendar) -> Viewer:
    return viewer_of(cal.owner) if cal.owner is not None else SYSTEM


def sync_calendar(*, calendar: Calendar) -> dict[str, Any]:
    """Read the feed if it changed and bring its meetings up to date."""
    try:
        status, text, etag, modified = _get(calendar)
        if status == 304:
            report: dict[str, Any] = {"calendar": calendar.id, "unchanged": True, "counts": {}}
        else:
            report = _apply(calendar, text, etag, modified)
    except MailError as exc:
        mark_failed(calendar, exc)
        raise
    except ValidationError as exc:  # an unreadable feed: nothing written
        failure = MailError(f"{calendar.url}: {exc.message}")
        mark_failed(calendar, failure)
        raise failure from None
    mark_synced(calendar, report)
    return report


@transaction.atomic
def _apply(cal: Calendar, text: str, etag: str, modified: str) -> dict[str, Any]:
    now = clock.now()
    horizon = now + dt.timedelta(days=cal.window_days)
    counts: dict[str, int] = {}
    by_href: dict[str, list[InteractionIn]] = {}
    bad: list[str] = []
    cancelled: set[str] = set()
    wanted: dict[str, InteractionIn] = {}
    for unit in calendar_units(text, bodies=False, now=horizon):
        if unit.error is not None:
            bad.append(unit.error.line())
            continue
        for item in unit.interactions:
            uid = str(item.meta.get("uid") or item.external_id.split("/")[0])
            if item.cancelled:
                cancelled.add(item.external_id)
                continue
            if item.at > now:
                item.meta["planned"] = True
            # a moved instance (RECURRENCE-ID) comes first and wins over its occurrence
            if wanted.setdefault(item.external_id, item) is item:
                by_href.setdefault(uid, []).append(item)
    counts["bad_events"] = len(bad)
    tracked = {
        e for ids in CalendarEvent.objects.filter(calendar=cal).values_list(
            "external_ids", flat=True) for e in ids
    }  # fmt: skip
    cancelled |= {t for t in tracked if t.split("/", 1)[0] in cancelled}  # a whole series
    asked = sorted(set(wanted) | tracked | cancelled)
    existing: dict[str, tuple[str, dt.datetime, str, Any]] = {}
    for i in range(0, len(asked), 500):
        for iid, e, at, subject, deleted in Interaction.objects.filter(
            external_id__in=asked[i : i + 500]
        ).values_list("id", "external_id", "at", "subject", "deleted_at"):
            if e:
                existing[e] = (iid, at, subject, deleted)
    writer = Writer(viewer=_viewer(cal), source=f"calendar:{cal.id}", write=lambda: True)
    new = [i for e, i in wanted.items() if e not in existing]
    writer.prefetch([], new)
    for item in new:
        writer.add_interaction(item)
    writer.end_batch()
    counts.update(writer.counts)
    for ext, item in wanted.items():
        if ext not in existing:
            continue
        iid, at, subject, deleted = existing[ext]
        if deleted is not None:
            continue
        values = {}
        if at != item.at:
            values["at"] = item.at.isoformat()
        if subject != item.subject:
            values["subject"] = item.subject
        if values:
            edit_interaction(interaction_id=iid, values=values)
            counts["meetings_moved" if "at" in values else "meetings_updated"] = (
                counts.get("meetings_moved" if "at" in values else "meetings_updated", 0) + 1
            )
    for ext, (iid, at, _s, deleted) in existing.items():
        gone = ext in cancelled or (ext in tracked and ext not in wanted)
        if gone and ext not in wanted and deleted is None and at > now:
            delete_interaction(interaction_id=iid)
            counts["planned_removed"] = counts.get("planned_removed", 0) + 1
    CalendarEvent.objects.filter(calendar=cal).delete()
    CalendarEvent.objects.bulk_create(
        CalendarEvent(calendar=cal, href=uid[:500], external_ids=[i.external_id for i in items])
        for uid, items in by_href.items()
    )
    Calendar.objects.filter(pk=cal.pk).update(etag=etag[:300], last_modified=modified[:100])
    if writer.touched:
        publish("bulk.loaded", counts=dict(writer.counts), people=sorted(writer.touched))
    return {"calendar": cal.id, "unchanged": False, "counts": counts, "bad": bad[:20]}


def sync_due() -> dict[str, Any]:
    """Sync every due calendar once (the worker's schedule)."""
    now = clock.now()
    done: dict[str, Any] = {"synced": [], "failed": []}
    for cal in Calendar.objects.select_related("owner").order_by("id"):
        due = (
            cal.next_attempt_at <= now
            if cal.next_attempt_at is not None
            else cal.last_sync_at is None or cal.last_sync_at <= now - EVERY
        )
        if not due:
            continue
        try:
            sync_calendar(calendar=cal)
            done["synced"].append(cal.id)
        except MailError as exc:
            done["failed"].append({"calendar": cal.id, "error": exc.message})
    return done
