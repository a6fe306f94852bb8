"""The intelligence app's jobs: the full rescore of the kept scores.

``kept_services.rescore_job`` is queued on commit by a change too large to follow record by
record (a bulk load, a new member of a busy team), ``rescore_orgs_job`` by a write that
touches an organisation of more than ``INLINE_STAFF`` people; ``rescore_when_stale`` runs every few
minutes while the kept scores are not today's (the day turned and health decays with time;
a new workspace), so a page reads them instead of scoring the workspace on its request.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kith.core import jobs
from kith.intelligence.kept_selectors import is_current
from kith.intelligence.kept_services import rescore, rescore_job, rescore_orgs_job

__all__ = ["rescore_job", "rescore_orgs_job", "rescore_when_stale"]


@jobs.periodic(
    "intelligence.rescore",
    every=dt.timedelta(minutes=10),
    timeout=3600,
    when=lambda: not is_current(),
)
def rescore_when_stale() -> dict[str, Any]:
    """The kept scores as of today, when they are not (a new day, a new workspace)."""
    return rescore()
