"""The tasks app's background jobs: the daily keep-in-touch scan (found by the worker)."""

from __future__ import annotations

from kith.core import jobs
from kith.tasks.cadence_services import scan_cadences
from kith.tasks.models import Cadence

SCAN = "tasks.scan_cadences"


def _any_cadence() -> bool:
    return Cadence.objects.exists()


@jobs.periodic(SCAN, rrule="FREQ=DAILY;BYHOUR=5", timeout=900, when=_any_cadence)
def scan_cadences_daily() -> dict[str, int]:
    """Open or update the tasks of overdue cadences, as of today (the worker's clock)."""
    return scan_cadences()
