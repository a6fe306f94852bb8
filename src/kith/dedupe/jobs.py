"""The dedupe app's background job: the kept duplicate pairs rebuilt whole once a day
(employment that ended on a past day stops counting without an event)."""

from __future__ import annotations

from kith.core import jobs
from kith.dedupe.kept import rebuild

REBUILD = "dedupe.rebuild"


@jobs.periodic(REBUILD, rrule="FREQ=DAILY;BYHOUR=3", timeout=3600)
def rebuild_daily() -> dict[str, int]:
    """Rebuild every kept key, block and pair."""
    return rebuild()


@jobs.job(timeout=3600, max_attempts=2)
def rebuild_after_load() -> dict[str, int]:
    """Rebuild the kept pairs after a bulk load too big to rebuild them in (see
    ``kept.INLINE_MAX``)."""
    return rebuild()
