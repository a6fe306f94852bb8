"""The worker's schedule: each minute, the mail accounts and calendars that are due sync."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q

from kith.capture import mail_services
from kith.capture.models import Calendar, MailAccount
from kith.core import clock, jobs

SYNC = "capture.sync"


TICK = dt.timedelta(minutes=1)  # how often the worker looks; a source is due every EVERY


def _any_due() -> bool:
    """A source never synced, past its back-off, or last synced EVERY ago (two queries)."""
    now = clock.now()
    due = (
        Q(last_sync_at__isnull=True, next_attempt_at__isnull=True)
        | Q(next_attempt_at__lte=now)
        | Q(next_attempt_at__isnull=True, last_sync_at__lte=now - mail_services.EVERY)
    )
    return MailAccount.objects.filter(due).exists() or Calendar.objects.filter(due).exists()


@jobs.periodic(SYNC, every=TICK, timeout=1800, when=_any_due)
def sync_sources() -> dict[str, Any]:
    """Sync what is due; each source keeps its own status and back-off."""
    from kith.capture import calendar_services  # noqa: PLC0415 - icalendar loads lazily

    return {"mail": mail_services.sync_due(), "calendars": calendar_services.sync_due()}
