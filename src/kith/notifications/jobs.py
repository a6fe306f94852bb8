"""The email of a notification, sent by the worker: retried with back-off, then recorded.

Each attempt is one SMTP transaction (the server has the whole message or none of it).
A refusal, a time-out or a lost connection is retried ``EMAIL_ATTEMPTS`` times in all,
waiting longer each time; then the notification records the email as failed, with the
server's reason. A sent email is never sent again by a retry of its job.
"""

from __future__ import annotations

import logging
import os
import smtplib
from urllib.parse import urljoin

from django.db import transaction

from kith.core import clock, jobs
from kith.notifications import mail
from kith.notifications.models import Notification
from kith.notifications.tokens import unsubscribe_token

EMAIL_ATTEMPTS = 5
log = logging.getLogger("kith.notifications")


def base_url() -> str:
    """Where Kith's web app is reached from an email (``KITH_BASE_URL``)."""
    return (os.environ.get("KITH_BASE_URL", "").strip() or "http://127.0.0.1:8000").rstrip("/")


def backoff_seconds(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones (``KITH_MAIL_BACKOFF``)."""
    base = float(os.environ.get("KITH_MAIL_BACKOFF", "30"))
    return float(min(base * (2 ** max(attempts - 1, 0)), 3600.0))


def unsubscribe_url(*, user_id: int, kind: str) -> str:
    """The one-click unsubscribe link of ``user_id`` for ``kind``."""
    return f"{base_url()}/unsubscribe/{unsubscribe_token(user_id=user_id, kind=kind)}"


def _text(n: Notification, unsubscribe: str) -> str:
    lines = [n.title, ""]
    if n.body:
        lines += [n.body, ""]
    if n.link:
        lines += [urljoin(base_url() + "/", n.link), ""]
    lines += [
        "--",
        f"You get this email for Kith notifications of the kind {n.kind!r}.",
        f"Stop these emails: {unsubscribe}",
        f"All your notification settings: {base_url()}/notifications/preferences",
    ]
    return "\n".join(lines) + "\n"


def _record(n: Notification, **fields: object) -> None:
    Notification.objects.filter(pk=n.pk).update(**fields)


@jobs.job(timeout=300, max_attempts=EMAIL_ATTEMPTS + 2)
def send_notification_email(*, notification_id: int) -> str:
    """Send one notification's email; returns sent, failed or skipped."""
    with transaction.atomic():
        n = (
            Notification.objects.select_for_update()
            .select_related("user")
            .filter(pk=notification_id)
            .first()
        )
        if n is None or n.email != Notification.Email.QUEUED:
            return "skipped"  # gone, sent already, or given up on
        attempt = n.email_attempts + 1
        _record(n, email_attempts=attempt)
    to = n.user.email or (n.user.get_username() if "@" in n.user.get_username() else "")
    try:
        config = mail.smtp_config()
    except Exception as exc:  # a bad KITH_SMTP_URL: no retry fixes it
        _record(n, email=Notification.Email.FAILED, email_error=str(exc)[:300])
        return "failed"
    if config is None or not to:
        why = "KITH_SMTP_URL is not set" if config is None else "the user has no email address"
        _record(n, email=Notification.Email.FAILED, email_error=why)
        return "failed"
    unsubscribe = unsubscribe_url(user_id=n.user_id, kind=n.kind)
    msg = mail.build_message(
        to=to, subject=f"[Kith] {n.title}", text=_text(n, unsubscribe), unsubscribe_url=unsubscribe
    )
    try:
        mail.send(msg, config)
    except (smtplib.SMTPException, OSError) as exc:
        reason = mail.describe(exc, config)
        if attempt >= EMAIL_ATTEMPTS:
            _record(n, email=Notification.Email.FAILED, email_error=f"{reason} ({attempt} tries)")
            log.error("notification %s: email failed after %d tries: %s", n.pk, attempt, reason)
            return "failed"
        _record(n, email_error=reason)
        raise jobs.Retry(reason, after=backoff_seconds(attempt)) from None
    _record(n, email=Notification.Email.SENT, emailed_at=clock.now(), email_error="")
    return "sent"


@jobs.job(timeout=300, max_attempts=EMAIL_ATTEMPTS)
def send_plain_email(*, to: str, subject: str, body: str) -> str:
    """Send one email that is no user's notification (a rule's "send an email" action).

    A refusal or time-out asks the worker to retry with back-off; once the attempts are
    spent the job is recorded failed with the server's reason (``kith jobs --failed``).
    """
    config = mail.smtp_config()
    if config is None:
        raise RuntimeError("KITH_SMTP_URL is not set: the email was not sent")
    msg = mail.build_message(to=to, subject=subject, text=body)
    try:
        mail.send(msg, config)
    except (smtplib.SMTPException, OSError) as exc:
        raise jobs.Retry(mail.describe(exc, config)) from None
    return "sent"
