"""The worker's schedule: due mail accounts and calendars sync every few minutes."""

from __future__ import annotations

from typing import Any

from kith.capture import mail_services
from kith.capture.models import Calendar, MailAccount
from kith.core import jobs

SYNC = "capture.sync"


def _any_source() -> bool:
    return MailAccount.objects.exists() or Calendar.objects.exists()


@jobs.periodic(SYNC, every=mail_services.EVERY, timeout=1800, when=_any_source)
def sync_sources() -> dict[str, Any]:
    """Sync what is due; each source keeps its own status and back-off."""
    from kith.capture import calendar_services  # noqa: PLC0415 - icalendar loads lazily

    return {"mail": mail_services.sync_due(), "calendars": calendar_services.sync_due()}
