"""Calendar capture: published ICS feeds (conditional GET) become meetings as the ICS
import makes them (``kith.imports.ical.calendar_units`` and the import ``Writer``).

Future events are planned meetings; recurring events expand up to the calendar's window
ahead. An event that moved updates its interaction (history kept); a future event that
left the feed, or was cancelled, removes its planned interaction (restorably); past ones
stay as history. Each sync is one transaction: a feed that fails half-way writes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
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
    """Read what changed (CalDAV: by sync-token, else etags; a feed: by conditional GET)
    and bring its meetings up to date."""
    report: dict[str, Any]
    try:
        if calendar.kind == "caldav":
            report = _sync_caldav(calendar)
        else:
            status, text, etag, modified = _get(calendar)
            if status == 304:
                report = {"calendar": calendar.id, "unchanged": True, "counts": {}}
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


@dataclass
class Parsed:
    """Events read from iCalendar text, by external id and by where they came from."""

    wanted: dict[str, InteractionIn] = field(default_factory=dict)
    by_href: dict[str, list[str]] = field(default_factory=dict)  # href -> external ids
    cancelled: set[str] = field(default_factory=set)
    bad: list[str] = field(default_factory=list)

    def read(self, text: str, *, href: str | None, now: dt.datetime, horizon: dt.datetime) -> None:
        """Add the events of ``text``, filed under ``href`` (an ICS feed: under each UID)."""
        for unit in calendar_units(text, bodies=False, now=horizon):
            if unit.error is not None:
                self.bad.append(unit.error.line())
                continue
            for item in unit.interactions:
                uid = str(item.meta.get("uid") or item.external_id.split("/")[0])
                if item.cancelled:
                    self.cancelled.add(item.external_id)
                    continue
                if item.at > now:
                    item.meta["planned"] = True
                # a moved instance (RECURRENCE-ID) comes first and wins over its occurrence
                if self.wanted.setdefault(item.external_id, item) is item:
                    self.by_href.setdefault(href or uid, []).append(item.external_id)


def _bump(counts: dict[str, int], key: str) -> None:
    counts[key] = counts.get(key, 0) + 1


@transaction.atomic
def _reconcile(
    cal: Calendar,
    parsed: Parsed,
    *,
    now: dt.datetime,
    scope: set[str] | None = None,
    etags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Bring the meetings of the hrefs in ``scope`` (None: all of the calendar's) in line
    with ``parsed``: new ones written, moved ones edited, future ones gone deleted."""
    counts: dict[str, int] = {"bad_events": len(parsed.bad)}
    rows = CalendarEvent.objects.filter(calendar=cal)
    if scope is not None:
        rows = rows.filter(href__in=sorted(scope))
    tracked = {e for ids in rows.values_list("external_ids", flat=True) for e in ids}
    cancelled = parsed.cancelled | {t for t in tracked if t.split("/", 1)[0] in parsed.cancelled}
    wanted = parsed.wanted
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
        if ext not in existing or existing[ext][3] is not None:
            continue
        iid, at, subject, _ = existing[ext]
        values = {}
        if at != item.at:
            values["at"] = item.at.isoformat()
        if subject != item.subject:
            values["subject"] = item.subject
        if values:
            edit_interaction(interaction_id=iid, values=values)
            _bump(counts, "meetings_moved" if "at" in values else "meetings_updated")
    for ext, (iid, at, _s, deleted) in existing.items():
        gone = ext in cancelled or ext in tracked
        if gone and ext not in wanted and deleted is None and at > now:
            delete_interaction(interaction_id=iid)
            _bump(counts, "planned_removed")
    rows.delete()
    CalendarEvent.objects.bulk_create(
        CalendarEvent(
            calendar=cal, href=href[:500], etag=(etags or {}).get(href, "")[:300], external_ids=ids
        )
        for href, ids in parsed.by_href.items()
    )
    if writer.touched:
        publish("bulk.loaded", counts=dict(writer.counts), people=sorted(writer.touched))
    return {"calendar": cal.id, "unchanged": False, "counts": counts, "bad": parsed.bad[:20]}


@transaction.atomic
def _apply(cal: Calendar, text: str, etag: str, modified: str) -> dict[str, Any]:
    now = clock.now()
    parsed = Parsed()
    parsed.read(text, href=None, now=now, horizon=now + dt.timedelta(days=cal.window_days))
    report = _reconcile(cal, parsed, now=now)
    Calendar.objects.filter(pk=cal.pk).update(etag=etag[:300], last_modified=modified[:100])
    return report


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


def connect_caldav(
    *, url: str, username: str = "", secret: str = "", owner: Any = None, window_days: int = 90
) -> list[Calendar]:
    """Discover the calendars at a CalDAV URL (or under the user's calendar home) and
    capture each; the secret is stored encrypted."""
    from kith.capture.caldav import Client  # noqa: PLC0415

    text = _check_url(url)
    if not 1 <= window_days <= 730:
        raise ValidationError(f"window: {window_days} days is not 1-730", field="window")
    client = Client(text, username, secret)
    try:
        found = client.discover()
    except MailError as exc:
        raise ValidationError(f"url: {exc.message}", field="url") from None
    finally:
        client.close()
    return _add_collections(found, owner, username, secret, window_days)


@transaction.atomic
def _add_collections(
    found: list[Any], owner: Any, username: str, secret: str, window_days: int
) -> list[Calendar]:
    made = []
    sealed = secrets.seal(secret) if secret else ""
    for col in found:
        if Calendar.objects.filter(url=col.url, owner=owner).exists():
            continue
        cal = Calendar.objects.create(
            id=new_id("cal"), owner=owner, kind="caldav", url=col.url[:500], username=username,
            secret=sealed, window_days=window_days,
        )  # fmt: skip
        audit("calendar.connected", target=cal.id, detail={"url": cal.url, "name": col.name})
        made.append(cal)
    if not made:
        raise Conflict("url: every calendar there is connected already", field="url")
    return made


def _sync_caldav(cal: Calendar) -> dict[str, Any]:
    from kith.capture.caldav import Client  # noqa: PLC0415

    client = Client(cal.url, cal.username, secrets.unseal(cal.secret) if cal.secret else "")
    try:
        changes = client.changes(cal.url, cal.sync_token)
        known = dict(CalendarEvent.objects.filter(calendar=cal).values_list("href", "etag"))
        if changes.full:  # no usable token: compare every etag, and what is missing is gone
            changes.removed = set(known) - set(changes.changed)
        fetch = {h: e for h, e in changes.changed.items() if not e or known.get(h) != e}
        texts = client.fetch(cal.url, fetch) if fetch else {}
    finally:
        client.close()
    if not fetch and not changes.removed:
        Calendar.objects.filter(pk=cal.pk).update(sync_token=changes.token[:500])
        return {"calendar": cal.id, "unchanged": True, "counts": {}}
    return _apply_caldav(cal, texts, fetch, changes.removed, changes.token)


@transaction.atomic
def _apply_caldav(
    cal: Calendar, texts: dict[str, str], etags: dict[str, str], removed: set[str], token: str
) -> dict[str, Any]:
    now = clock.now()
    horizon = now + dt.timedelta(days=cal.window_days)
    parsed = Parsed()
    for href, text in texts.items():
        try:
            parsed.read(text, href=href, now=now, horizon=horizon)
        except ValidationError as exc:  # one unreadable resource: named, the rest go on
            parsed.bad.append(f"{href}: {exc.message}")
    report = _reconcile(cal, parsed, now=now, scope=set(texts) | removed, etags=etags)
    Calendar.objects.filter(pk=cal.pk).update(sync_token=token[:500])
    report["counts"]["changed"] = len(texts)
    report["counts"]["removed"] = len(removed)
    return report
