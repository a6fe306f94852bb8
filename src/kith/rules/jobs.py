"""The rules' jobs: drain the queued events, and scan the time-based rules.

A write that queues a rule event asks for a drain job once it commits (at most one per
process every ``KICK_SECONDS``: a drain runs until the queue is empty, so the events
committed while it runs are its too); a periodic drain catches whatever a kick missed
(a process that ended between its commit and the kick). The scan of time-based rules
runs every few minutes; each rule's own schedule decides whether it fires.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

from kith.core import jobs
from kith.intelligence.bands import track_bands
from kith.rules import engine, matching, scans
from kith.rules.models import Rule, RuleEvent, RuleRun
from kith.rules.spec import TIME_TRIGGERS

BANDS = "health.band_changed"

KICK_SECONDS = 0.5
_last_kick = [0.0]
_kick_lock = threading.Lock()


@jobs.job(timeout=600, max_attempts=3)
def drain_events() -> int:
    """Run every queued rule event."""
    return engine.drain()


def _queued() -> bool:
    return RuleEvent.objects.filter(status=RuleEvent.PENDING).exists()


def _timed() -> bool:
    time_rules = Rule.objects.filter(enabled=True, trigger__in=[*TIME_TRIGGERS, BANDS])
    return time_rules.exists() or RuleRun.objects.filter(status=RuleRun.RUNNING).exists()


@jobs.periodic("rules.drain", every=dt.timedelta(seconds=30), timeout=600, when=_queued)
def drain_backstop() -> int:
    """Run queued rule events a kick may have missed."""
    return engine.drain()


@jobs.periodic("rules.scan", every=dt.timedelta(minutes=5), timeout=1800, when=_timed)
def scan_time_rules() -> dict[str, Any]:
    """Queue the firings of the time-based rules, follow health bands when a rule listens
    to their changes, and mark runs stuck past their time-out."""
    out = scans.scan()
    if Rule.objects.filter(enabled=True, trigger=BANDS).exists():
        out["bands"] = track_bands()  # publishes health.band_changed for each move
    return out


def kick() -> None:
    """Ask a worker to drain (after the commit that queued events), throttled per process."""
    with _kick_lock:
        now = time.monotonic()
        if now - _last_kick[0] < KICK_SECONDS:
            return
        _last_kick[0] = now
    jobs.enqueue(drain_events)


def connect() -> None:
    """Kick a drain whenever a transaction that queued rule events commits."""
    matching.on_queued(kick)
