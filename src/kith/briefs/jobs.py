"""Background work: the digest sweep (every 15 minutes, each due subscription); the digest
email job lives in kith.briefs.mailer (imported here so the worker registers it)."""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.auth.models import User

from kith.briefs.mailer import send_digest_email
from kith.briefs.services import due_subscriptions, send_digest
from kith.core import clock, jobs

log = logging.getLogger(__name__)
__all__ = ["send_digest_email", "send_due_digests"]


@jobs.periodic("briefs.digests", every=dt.timedelta(minutes=15))
def send_due_digests() -> int:
    """Send every digest whose schedule has come (each in its own transaction)."""
    sent = 0
    for user_id in due_subscriptions(clock.now()):
        user = User.objects.get(pk=user_id)
        try:
            if send_digest(user=user) is not None:
                sent += 1
        except Exception:  # one user's failure must not stop the others
            log.exception("digest for user %s failed", user_id)
    return sent
