"""The plans app's background job: the daily readings of every computed measure."""

from __future__ import annotations

from kith.core import jobs
from kith.plans.services import take_readings

READINGS = "plans.take_readings"


@jobs.periodic(READINGS, rrule="FREQ=DAILY;BYHOUR=4", timeout=1800)
def take_readings_daily() -> dict[str, int]:
    """Take today's reading of every computed measure of the active plans."""
    return take_readings()
