"""Background jobs: a durable queue in the database through Django's Tasks API.

A job is a module-level function decorated with :func:`job`; it becomes a Django
``Task`` whose runs are rows of the database backend (``django_tasks_db``), so the
embedded SQLite default needs no other service and several workers share the queue on
PostgreSQL. ``kith worker`` (:mod:`kith.core.worker`) runs them::

    @jobs.job(timeout=300, max_attempts=5, retry_on=(TimeoutError,))
    def send_digest(*, user_id: int) -> None: ...

    jobs.enqueue(send_digest, user_id=7)       # in the caller's transaction

A job is enqueued in the caller's transaction: it exists exactly when the change that
asked for it commits. Arguments are keyword-only JSON values. A job that raises
:class:`Retry` (or one of its ``retry_on`` errors) runs again after a back-off until its
``max_attempts`` are spent, then it is recorded as failed with the reason; a job whose
worker died is run again the same way; one running past its ``timeout`` is recorded as
timed out.

Periodic jobs register with :func:`periodic` (``every=timedelta`` or ``rrule="FREQ=..."``);
the worker's scheduler enqueues each due run once (see :mod:`kith.core.worker`), judged by
``kith.core.clock.now()`` so tests travel in time. Each app keeps its jobs in
``kith.<app>.jobs`` (found by the worker) or any module its ``jobs`` module imports.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from dateutil.rrule import rrule, rrulestr
from django_tasks import task
from django_tasks.base import Task

from kith.core import clock
from kith.core.errors import ValidationError

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_TIMEOUT = 15 * 60.0
DEFAULT_ATTEMPTS = 3
# An RRULE without DTSTART counts from here (a Monday, UTC midnight): "FREQ=DAILY;BYHOUR=7"
# runs at 07:00 UTC, "FREQ=WEEKLY" on Mondays.
RRULE_ANCHOR = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


class Retry(Exception):
    """Raised by a job to be run again later (``after`` seconds, else its back-off)."""

    def __init__(self, reason: str, *, after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = after


class JobTimedOut(Exception):
    """Recorded on a job that ran past its time-out."""


class WorkerLost(Exception):
    """Recorded on a job whose worker stopped while running it, once its attempts are spent."""


class RetriesExhausted(Exception):
    """Recorded on a job that asked to be retried once too often."""


@dataclass(frozen=True, slots=True)
class JobSpec:
    """How the worker treats a job's runs."""

    timeout: float = DEFAULT_TIMEOUT
    max_attempts: int = DEFAULT_ATTEMPTS
    retry_on: tuple[type[BaseException], ...] = ()
    backoff: float = 10.0  # seconds before the 2nd attempt; doubles each time, at most 1 h

    def delay(self, attempts: int) -> float:
        """Seconds to wait after ``attempts`` tries before the next one."""
        return float(min(self.backoff * (2 ** max(attempts - 1, 0)), 3600.0))


_SPECS: dict[str, JobSpec] = {}


def job(
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_attempts: int = DEFAULT_ATTEMPTS,
    retry_on: tuple[type[BaseException], ...] = (),
    backoff: float = 10.0,
    priority: int = 0,
) -> Callable[[Callable[P, T]], Task[P, T]]:
    """Make a module-level function a durable job (a Django ``Task``) the worker runs."""
    if timeout <= 0 or max_attempts < 1:
        raise ValueError("job: timeout must be positive and max_attempts at least 1")

    def wrap(func: Callable[P, T]) -> Task[P, T]:
        made: Task[P, T] = task(priority=priority)(func)
        _SPECS[made.module_path] = JobSpec(timeout, max_attempts, tuple(retry_on), backoff)
        return made

    return wrap


def spec_for(task_path: str) -> JobSpec:
    """The worker's settings for the job at ``task_path`` (defaults when unknown)."""
    return _SPECS.get(task_path, JobSpec())


def enqueue(fn: Task[..., Any], /, *, run_after: dt.datetime | None = None, **kwargs: Any) -> str:
    """Queue one run of job ``fn`` with keyword arguments; returns the job's id.

    Runs in the caller's transaction (the job exists once it commits). ``run_after``
    holds it back until then (aware; by ``kith.core.clock``).
    """
    if not isinstance(fn, Task):
        name = getattr(fn, "__qualname__", repr(fn))
        raise TypeError(f"enqueue: {name} is not a job; decorate it with @kith.core.jobs.job()")
    chosen = fn.using(run_after=run_after) if run_after is not None else fn
    return str(chosen.enqueue(**kwargs).id)


# -- periodic jobs -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Periodic:
    """A job the scheduler enqueues on a schedule: every ``every``, or on an RRULE."""

    name: str
    task: Task[[], Any]
    every: dt.timedelta | None = None
    rule: str | None = None
    when: Callable[[], bool] | None = None  # a cheap check: is there anything to do?

    @property
    def schedule(self) -> str:
        """The schedule as text (stored with the last run: a changed one is re-planned)."""
        return f"every {self.every.total_seconds():g}s" if self.every else f"rrule {self.rule}"

    def first_run(self, now: dt.datetime) -> dt.datetime | None:
        """When a job never run before is first due: at once for ``every``, else the RRULE."""
        return now if self.every else self.next_after(now - dt.timedelta(microseconds=1))

    def next_after(self, moment: dt.datetime) -> dt.datetime | None:
        """The first run strictly after ``moment`` (None: the schedule never fires again)."""
        if self.every is not None:
            return moment + self.every
        found: dt.datetime | None = _rrule(self.name, str(self.rule)).after(moment)
        return found


_PERIODIC: dict[str, Periodic] = {}


def _rrule(name: str, text: str) -> rrule:
    try:
        parsed = rrulestr(text, dtstart=RRULE_ANCHOR, forceset=False)
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"periodic {name}: rrule {text!r} is not an RRULE ({exc})") from None
    if not isinstance(parsed, rrule):
        raise ValidationError(f"periodic {name}: rrule {text!r} must be one RRULE")
    return parsed


def periodic(
    name: str,
    *,
    every: dt.timedelta | None = None,
    rrule: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_attempts: int = 1,
    when: Callable[[], bool] | None = None,
) -> Callable[[Callable[[], T] | Task[[], T]], Task[[], T]]:
    """Register a function of no arguments (or a job) as a job run on a schedule.

    ``every`` runs it at once on the first start and then every interval; ``rrule``
    (RFC 5545, e.g. ``"FREQ=DAILY;BYHOUR=7"``, UTC) on its occurrences. A run missed
    while no worker ran is made up once, not once per missed occurrence. ``when``, if
    given, is asked first at each due run: False skips that run without queueing a job
    (a frequent sweep that usually finds nothing leaves no rows behind).
    """
    if (every is None) == (rrule is None):
        raise ValidationError(f"periodic {name}: give one of every= or rrule=")
    if every is not None and every <= dt.timedelta(0):
        raise ValidationError(f"periodic {name}: every= must be positive, not {every}")
    if rrule is not None and _rrule(name, rrule).after(clock.now()) is None:
        raise ValidationError(f"periodic {name}: rrule {rrule!r} never fires again")

    def wrap(func: Callable[[], T] | Task[[], T]) -> Task[[], T]:
        made = (
            func
            if isinstance(func, Task)
            else job(timeout=timeout, max_attempts=max_attempts)(func)
        )
        _PERIODIC[name] = Periodic(name=name, task=made, every=every, rule=rrule, when=when)
        return made

    return wrap


def periodic_jobs() -> list[Periodic]:
    """Every registered periodic job, by name (``KITH_PERIODIC_ONLY``: only the names that
    start with one of its comma-separated prefixes; tests of the worker set it)."""
    names = sorted(_PERIODIC)
    only = os.environ.get("KITH_PERIODIC_ONLY")
    if only is not None:
        prefixes = tuple(p.strip() for p in only.split(",") if p.strip())
        names = [n for n in names if n.startswith(prefixes)]
    return [_PERIODIC[name] for name in names]


def unregister_periodic(name: str) -> None:
    """Forget a periodic job (tests that register their own)."""
    _PERIODIC.pop(name, None)
