"""The digest email job: HTML with inlined CSS and a text part, through the SMTP path of
kith.notifications.mail, retried with back-off by the worker."""

from __future__ import annotations

import logging
import smtplib

from django.db import transaction

from kith.briefs import digest_render
from kith.briefs.models import Digest
from kith.core import jobs
from kith.notifications import mail
from kith.notifications.jobs import base_url

log = logging.getLogger(__name__)
ATTEMPTS = 5


def _record(d: Digest, **fields: object) -> None:
    Digest.objects.filter(pk=d.pk).update(**fields)


@jobs.job(timeout=300, max_attempts=ATTEMPTS + 1)
def send_digest_email(*, digest_id: int) -> str:
    """Send one digest's email; returns sent, failed or skipped."""
    with transaction.atomic():
        d = Digest.objects.select_for_update().select_related("user").filter(pk=digest_id).first()
        if d is None or d.email != Digest.Email.QUEUED:
            return "skipped"
    config = mail.smtp_config()
    user = d.user
    to = user.email or (user.get_username() if "@" in user.get_username() else "")
    if config is None or not to:
        _record(d, email=Digest.Email.FAILED, email_error="KITH_SMTP_URL is not set or no address")
        return "failed"
    base = base_url()
    subject = f"[Kith] Your digest: {d.items} items"
    msg = mail.build_message(to=to, subject=subject, text=digest_render.as_text(d.body, base))
    msg.add_alternative(digest_render.as_html(d.body, base), subtype="html")
    try:
        mail.send(msg, config)
    except (smtplib.SMTPException, OSError) as exc:
        reason = mail.describe(exc, config)
        _record(d, email_error=reason)
        raise jobs.Retry(reason) from None
    _record(d, email=Digest.Email.SENT, email_error="")
    return "sent"
