"""Writes: digest subscriptions, and sending a digest (stored, in-app, email by the worker)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from dateutil.rrule import rrulestr
from django.contrib.auth.models import User
from django.db import transaction

from kith.accounts.selectors import get_user
from kith.briefs import coach, digest_render
from kith.briefs.digest import digest, me_of
from kith.briefs.mailer import send_digest_email
from kith.briefs.models import CoachSetting, Digest, Subscription
from kith.briefs.surprises import surprises
from kith.core import clock, jobs
from kith.core.errors import NotFound, ValidationError
from kith.core.services import audit
from kith.core.viewer import Viewer
from kith.notifications.mail import smtp_config
from kith.notifications.services import notify, set_preference
from kith.tasks.models import Task
from kith.tasks.services import create_task

CHANNELS = ("in_app", "email", "atom")
KIND = "digest"


def check_zone(zone: str) -> str:
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"zone: {zone!r} is not a time zone (e.g. Europe/Paris)", field="zone"
        ) from None
    return zone


def next_run(rule: str, zone: str, after: dt.datetime) -> dt.datetime | None:
    """The schedule's first occurrence after ``after`` (the RRULE read in ``zone``), UTC."""
    tz = zoneinfo.ZoneInfo(zone)
    local = after.astimezone(tz)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=7)
    try:
        got = rrulestr(rule, dtstart=start.replace(tzinfo=None)).after(
            local.replace(tzinfo=None), inc=False
        )
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"rrule: {rule!r} is not an RRULE ({exc})", field="rrule") from None
    if got is None:
        return None
    return got.replace(tzinfo=tz).astimezone(dt.UTC)


def _channels(values: list[str]) -> list[str]:
    out = []
    for v in values:
        c = v.strip().lower().replace("-", "_")
        if c not in CHANNELS:
            raise ValidationError(
                f"channels: {v!r} is not one of {', '.join(CHANNELS)}", field="channels"
            )
        if c not in out:
            out.append(c)
    if not out:
        raise ValidationError(
            "channels: name at least one of in_app, email, atom", field="channels"
        )
    return out


@transaction.atomic
def subscribe(
    *,
    user: User | str,
    rrule: str = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=7",
    zone: str = "UTC",
    channels: list[str] | None = None,
    active: bool = True,
) -> Subscription:
    """Set a user's digest: its schedule (an RRULE in their zone) and channels."""
    target = get_user(user, field="user") if isinstance(user, str) else user
    chosen = _channels(channels or ["in_app", "email"])
    check_zone(zone)
    now = clock.now()
    if next_run(rrule, zone, now) is None:
        raise ValidationError(f"rrule: {rrule!r} never runs again", field="rrule")
    sub, _ = Subscription.objects.select_for_update().get_or_create(user=target)
    sub.rrule, sub.zone, sub.channels, sub.active = rrule, zone, chosen, active
    sub.next_at = next_run(rrule, zone, now)
    sub.updated_at = now
    sub.save()
    # the in-app part comes through notifications; the email is this app's own (HTML)
    set_preference(
        viewer=Viewer(user_id=target.pk, label=target.get_username()),
        kind=KIND,
        in_app="in_app" in chosen,
        email=False,
    )
    audit(
        "digest.subscribed",
        target=target.get_username(),
        detail={"rrule": rrule, "zone": zone, "channels": chosen},
    )
    return sub


def window_of(sub: Subscription | None, since: str | None, until: dt.datetime) -> dt.datetime:
    """Where the next digest starts: the watermark (``last``), or ``7d``/``14d`` back."""
    text = (since or "last").strip().lower()
    if text == "last":
        if sub is not None and sub.watermark is not None:
            return sub.watermark
        return until - dt.timedelta(days=7)
    if text.endswith("d") and text[:-1].isdigit() and 1 <= int(text[:-1]) <= 366:
        return until - dt.timedelta(days=int(text[:-1]))
    raise ValidationError(f"since: {since!r} is not last or a number of days (7d)", field="since")


@transaction.atomic
def send_digest(
    *, user: User | str, since: str | None = "last", until: dt.datetime | None = None
) -> Digest | None:
    """Build, store and send a user's digest through its channels; None when there is
    nothing to tell (never an empty digest). Moves the watermark to ``until``."""
    target = get_user(user, field="user") if isinstance(user, str) else user
    sub = Subscription.objects.select_for_update().filter(user=target).first()
    end = until or clock.now()
    start = window_of(sub, since, end)
    if start >= end and (since or "last").strip().lower() == "last":
        return None  # nothing has happened since the last digest
    if start >= end:
        raise ValidationError(
            f"since: {start.isoformat()} is not before {end.isoformat()}", field="since"
        )
    body = digest(target, start, end)
    channels = sub.channels if sub is not None else ["in_app", "email"]
    if sub is not None:
        sub.watermark = end
        sub.next_at = next_run(sub.rrule, sub.zone, end)
        sub.save(update_fields=["watermark", "next_at"])
    if not body["items"]:
        return None
    address = target.email or (target.get_username() if "@" in target.get_username() else "")
    email = "email" in channels and bool(address) and smtp_config() is not None
    d = Digest.objects.create(
        user=target,
        since=start,
        until=end,
        body=body,
        text=digest_render.as_text(body),
        html=digest_render.as_html(body),
        items=body["items"],
        email=Digest.Email.QUEUED if email else Digest.Email.NONE,
    )
    if "in_app" in channels:
        notify(
            user=target,
            kind=KIND,
            title=f"Your digest: {body['items']} items",
            body=d.text[:10_000],
            link=f"/digests/{d.pk}",
            evidence={"digest": d.pk},
        )
    if email:
        jobs.enqueue(send_digest_email, digest_id=d.pk)
    return d


@transaction.atomic
def surprise_to_task(
    *, viewer: Viewer, key: str, as_of: dt.date, scope: str = "all", since_days: int = 14
) -> Task:
    """Make a task of a surprise (by its key); the same surprise twice is one task."""
    found = surprises(viewer, scope=scope, since_days=since_days, as_of=as_of)["items"]
    item = next((i for i in found if i["key"] == key), None)
    if item is None:
        raise NotFound(f"key: no surprise {key!r} in that scope and window", field="key")
    notes = "Evidence: " + ", ".join(item["evidence"])
    return create_task(
        viewer=viewer,
        title=f"Look into: {item['text']}"[:300],
        about=[item["about"]["id"]],
        notes=notes,
        dedupe_key=key[:200],
    )


def due_subscriptions(now: dt.datetime) -> list[int]:
    """Users whose digest is due (its schedule's next run has come)."""
    return list(
        Subscription.objects.filter(active=True, next_at__lte=now)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def view(sub: Subscription) -> dict[str, Any]:
    return {
        "user": sub.user.get_username(),
        "rrule": sub.rrule,
        "zone": sub.zone,
        "channels": list(sub.channels),
        "active": sub.active,
        "watermark": sub.watermark.isoformat() if sub.watermark else None,
        "next_at": sub.next_at.isoformat() if sub.next_at else None,
    }


@transaction.atomic
def set_coaching(
    *,
    viewer: Viewer,
    mode: str | None = None,
    team: str | None = None,
    leads: list[str] | None = None,
) -> CoachSetting:
    """Admins: turn coaching on, to self-only or off; name a team's leads."""
    if not viewer.admin:
        raise ValidationError("coaching: only an admin changes the coaching setting", field="mode")
    found, _ = CoachSetting.objects.select_for_update().get_or_create(pk=1)
    if mode is not None:
        if mode not in coach.MODES:
            raise ValidationError(f"mode: {mode!r} is not one of on, self, off", field="mode")
        found.mode = mode
    if team is not None:
        emails = [get_user(e, field="leads").get_username() for e in (leads or [])]
        found.leads = {**found.leads, team: emails}
    found.updated_at = clock.now()
    found.save()
    audit("coach.setting", detail={"mode": found.mode, "leads": found.leads})
    return found


def _may_see(viewer: Viewer, subject: User) -> bool:
    if viewer.user_id == subject.pk:
        return True
    setting = coach.mode()
    if setting != "on":
        return False
    if viewer.admin:
        return True
    profile = getattr(subject, "kith_profile", None)
    team = getattr(profile, "team", "") or ""
    looker = User.objects.filter(pk=viewer.user_id).first() if viewer.user_id else None
    return bool(team and looker and looker.get_username() in coach.leads_of(team))


@transaction.atomic
def open_coaching(*, viewer: Viewer, user: str, as_of: dt.date) -> dict[str, Any]:
    """A person's coaching page, for them, their team lead or an admin (coaching on); a view
    by anyone else is audited, and every such view is shown to the person."""
    subject = get_user(user, field="user")
    if coach.mode() == "off":
        raise ValidationError("coaching: an admin has turned coaching off", field="user")
    if not _may_see(viewer, subject):
        raise NotFound(f"user: no coaching for {user!r} that you may see", field="user")
    member = me_of(viewer, subject)
    if member is None:
        raise NotFound(
            f"user: {user!r} is not one of our people (no person on the team)", field="user"
        )
    if viewer.user_id != subject.pk:
        audit(
            "coach.viewed",
            target=subject.get_username(),
            detail={"by": viewer.label, "as_of": as_of.isoformat()},
        )
    page = coach.coaching(viewer, member, as_of=as_of)
    page["viewed_by_others"] = coach.views_of(subject.get_username())
    return page
