"""The tasks app's background jobs: the daily keep-in-touch scan (found by the worker)."""

from __future__ import annotations

from kith.core import jobs
from kith.tasks.cadence_services import scan_cadences

SCAN = "tasks.scan_cadences"


@jobs.periodic(SCAN, rrule="FREQ=DAILY;BYHOUR=5", timeout=900)
def scan_cadences_daily() -> dict[str, int]:
    """Open or update the tasks of overdue cadences, as of today (the worker's clock)."""
    return scan_cadences()
