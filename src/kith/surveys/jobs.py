"""The worker's survey jobs: email an invite, remind once, expire, and scheduled sends.

An invite's link token is made when its email is sent (a fresh one for the reminder) and
only its SHA-256 is kept: the token is in the email and nowhere else, not in the job's
arguments, the database or the logs.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib

from dateutil.rrule import rrulestr

from kith.core import clock, jobs
from kith.core.viewer import SYSTEM
from kith.notifications import mail
from kith.notifications.jobs import backoff_seconds, base_url
from kith.surveys import services
from kith.surveys.models import Invite, InviteStatus, Survey

ATTEMPTS = 5
log = logging.getLogger("kith.surveys")


def invite_text(inv: Invite, token: str, *, reminder: bool = False) -> str:
    s = inv.survey
    link = f"{base_url()}/s/{token}"
    expires = inv.expires_at or clock.now() + dt.timedelta(days=s.expire_after_days)
    lines = [
        f"Hello {inv.person.name},",
        "",
        "A reminder: we would still value your answer." if reminder else "",
        s.question,
        f"({s.scale_min} to {s.scale_max}; one screen, under a minute)",
        "",
        f"Answer here: {link}",
        f"The link works once, until {expires:%Y-%m-%d}.",
        "",
        "--",
        f"Not interested in surveys from us? {link}/opt-out",
    ]
    return "\n".join(line for i, line in enumerate(lines) if line or i != 2) + "\n"


@jobs.job(timeout=300, max_attempts=ATTEMPTS + 2)
def send_invite(*, invite_id: str, reminder: bool = False) -> str:
    """Email one invite (or its one reminder); sent, bounced or skipped."""
    inv = Invite.objects.select_related("survey", "person").filter(pk=invite_id).first()
    wanted = InviteStatus.SENT if reminder else InviteStatus.QUEUED
    if inv is None or inv.status != wanted:
        return "skipped"
    config = mail.smtp_config()
    if config is None:
        services.mark_bounced(invite_id=inv.id, reason="KITH_SMTP_URL is not set")
        return "bounced"
    Invite.objects.filter(pk=inv.pk).update(attempts=inv.attempts + 1)
    token = services.new_token(invite_id=inv.id)
    subject = f"{'Reminder: ' if reminder else ''}{inv.survey.question}"[:200]
    msg = mail.build_message(to=inv.email, subject=subject,
                             text=invite_text(inv, token, reminder=reminder))  # fmt: skip
    try:
        mail.send(msg, config)
    except smtplib.SMTPException as exc:
        permanent = isinstance(exc, smtplib.SMTPRecipientsRefused) or (
            isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500
        )
        if not permanent:
            return _retry(inv, mail.describe(exc, config))
        services.mark_bounced(invite_id=inv.id, reason=mail.describe(exc, config))
        return "bounced"
    except OSError as exc:
        return _retry(inv, mail.describe(exc, config))
    services.mark_sent(invite_id=inv.id, reminder=reminder)
    return "sent"


def _retry(inv: Invite, reason: str) -> str:
    """Try again later, or give up once the attempts are spent (bounced, with why)."""
    if inv.attempts + 1 >= ATTEMPTS:
        services.mark_bounced(invite_id=inv.id, reason=f"{reason} ({ATTEMPTS} tries)")
        log.error("survey invite %s: email failed: %s", inv.id, reason)
        return "bounced"
    raise jobs.Retry(reason, after=backoff_seconds(inv.attempts + 1))


@jobs.periodic("surveys.sweep", every=dt.timedelta(hours=1))
def sweep() -> dict[str, int]:
    """Expire invites past their day, queue the one reminder of each that is due, and
    send the scheduled surveys whose time has come."""
    expired = services.expire_invites()
    now = clock.now()
    reminders = 0
    for s in Survey.objects.filter(active=True, remind_after_days__isnull=False):
        assert s.remind_after_days is not None
        due = Invite.objects.filter(
            survey=s,
            status=InviteStatus.SENT,
            reminded_at=None,
            sent_at__lte=now - dt.timedelta(days=s.remind_after_days),
            expires_at__gt=now,
        ).values_list("id", flat=True)
        for iid in due:
            jobs.enqueue(send_invite, invite_id=iid, reminder=True)
            reminders += 1
    scheduled = 0
    for s in Survey.objects.filter(active=True, trigger__on="schedule"):
        last = (
            Invite.objects.filter(survey=s, cause="schedule")
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        start = s.created_at.replace(hour=0, minute=0, second=0, microsecond=0)  # UTC days
        rule = rrulestr(s.trigger["rrule"], dtstart=start, forceset=False)
        nxt = rule.after(last or start)
        if nxt is not None and nxt <= now and s.audience:
            services.send_survey(viewer=SYSTEM, survey=s.id, cause="schedule")
            scheduled += 1
    return {"expired": expired, "reminders": reminders, "scheduled": scheduled}
