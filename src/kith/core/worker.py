"""The worker: runs queued jobs (:mod:`kith.core.jobs`) and the periodic scheduler.

Every step that two workers could race on is one conditional UPDATE, so several workers
on one PostgreSQL (or several threads on one SQLite file) never run a job twice:

- claiming a job: ``READY -> RUNNING`` where it is still READY (PostgreSQL first picks a
  candidate with ``SELECT ... FOR UPDATE SKIP LOCKED``, so workers do not queue on one row);
- finishing it: where it is still RUNNING from this claim (a job the reaper has already
  called timed out or lost stays so);
- a periodic run: ``next_run_at`` moves on where it still holds the value read, and the
  run's job is enqueued in that same transaction.

Each worker is a row with a heartbeat. The reaper (every worker runs it) finds RUNNING
jobs whose worker is gone (its process no longer exists on this host, or its heartbeat
stopped) and puts them back in the queue, or records them failed once their attempts
are spent; and it records jobs running past their time-out as timed out.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import json
import logging
import os
import queue
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.db.models import F, Q
from django.utils.module_loading import autodiscover_modules, import_string
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from kith.core import clock
from kith.core.jobs import (
    JobSpec,
    JobTimedOut,
    RetriesExhausted,
    Retry,
    WorkerLost,
    enqueue,
    periodic_jobs,
    spec_for,
)
from kith.core.models import PeriodicRun, WorkerProcess

log = logging.getLogger("kith.worker")

READY, RUNNING = TaskResultStatus.READY, TaskResultStatus.RUNNING
FAILED, SUCCESSFUL = TaskResultStatus.FAILED, TaskResultStatus.SUCCESSFUL
HOST = socket.gethostname()[:255]
BEAT_SECONDS = 5.0
STALE_SECONDS = float(os.environ.get("KITH_WORKER_STALE_SECONDS", "60"))


def discover() -> None:
    """Import every installed app's ``jobs`` module, so its jobs and schedules register,
    and the modules named in ``KITH_JOB_MODULES`` (comma-separated)."""
    autodiscover_modules("jobs")
    for name in os.environ.get("KITH_JOB_MODULES", "").split(","):
        if name.strip():
            importlib.import_module(name.strip())


def _path(exc: type[BaseException]) -> str:
    return f"{exc.__module__}.{exc.__qualname__}"


def _load_spec(task_path: str) -> JobSpec:
    """The job's settings, importing its module if this process has not yet."""
    with contextlib.suppress(Exception):
        import_string(task_path)
    return spec_for(task_path)


# -- workers ------------------------------------------------------------------------------


def new_worker_id() -> str:
    """A worker id unique across machines: host, process and a random tail."""
    return f"{HOST[:30]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def register_worker(worker_id: str, concurrency: int = 1) -> None:
    """Record this worker and its first heartbeat."""
    now = clock.now()
    WorkerProcess.objects.update_or_create(
        pk=worker_id,
        defaults={
            "host": HOST,
            "pid": os.getpid(),
            "concurrency": concurrency,
            "started_at": now,
            "beat_at": now,
        },
    )


def heartbeat(worker_id: str, concurrency: int = 1) -> None:
    """Tell the others this worker is alive (re-register if it was given up for dead)."""
    if not WorkerProcess.objects.filter(pk=worker_id).update(beat_at=clock.now()):
        register_worker(worker_id, concurrency)


def deregister_worker(worker_id: str) -> None:
    """Forget this worker (its running jobs, if any, are requeued first)."""
    requeue_own(worker_id)
    WorkerProcess.objects.filter(pk=worker_id).delete()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _alive(worker: WorkerProcess | None, now: dt.datetime) -> bool:
    if worker is None:
        return False
    if worker.host == HOST:  # this machine: the process table knows for sure
        return worker.pid == os.getpid() or _pid_alive(worker.pid)
    return worker.beat_at >= now - dt.timedelta(seconds=STALE_SECONDS)


# -- claiming and running jobs ------------------------------------------------------------


def _due(now: dt.datetime) -> Q:
    return Q(run_after=get_date_max()) | Q(run_after__lte=now)


def claim(worker_id: str) -> DBTaskResult[Any, Any] | None:
    """Take the next due job for ``worker_id`` (RUNNING from now), or None."""
    now = clock.now()
    ready = DBTaskResult.objects.filter(status=READY).filter(_due(now))
    with transaction.atomic():
        if connection.vendor == "postgresql":
            row = ready.select_for_update(skip_locked=True).first()
        else:  # SQLite: Kith's transactions BEGIN IMMEDIATE, holding the write lock already
            row = ready.first()
        if row is None:
            return None
        ids = [*row.worker_ids, worker_id]
        won = DBTaskResult.objects.filter(pk=row.pk, status=READY).update(
            status=RUNNING, started_at=now, worker_ids=ids
        )
    if not won:
        return None
    row.status, row.started_at, row.worker_ids = RUNNING, now, ids
    return row


def _settle(row: DBTaskResult[Any, Any], **changes: Any) -> bool:
    """Write a claimed job's outcome, only while it is still this claim's (a few tries)."""
    for attempt in range(5):
        try:
            return bool(
                DBTaskResult.objects.filter(
                    pk=row.pk, status=RUNNING, started_at=row.started_at
                ).update(**changes)
            )
        except DatabaseError:
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))
    return False


def _failed(exc_path: str, text: str) -> dict[str, Any]:
    return {
        "status": FAILED,
        "finished_at": clock.now(),
        "exception_class_path": exc_path,
        "traceback": text,
        "return_value": None,
    }


def _again_or_fail(
    row: DBTaskResult[Any, Any], spec: JobSpec, reason: str, after: float | None
) -> str:
    attempts = len(row.worker_ids)
    history = f"{row.traceback}attempt {attempts}: {reason}\n"
    if attempts < spec.max_attempts:
        wait = spec.delay(attempts) if after is None else max(after, 0.0)
        _settle(
            row,
            status=READY,
            run_after=clock.now() + dt.timedelta(seconds=wait),
            traceback=history,
            exception_class_path=_path(Retry),
        )
        log.warning("job %s %s: %s; retrying in %.0f s", row.pk, _name(row), reason, wait)
        return "retry"
    text = f"{history}gave up after {attempts} attempts: {reason}\n"
    _settle(row, **_failed(_path(RetriesExhausted), text))
    log.error("job %s %s failed after %d attempts: %s", row.pk, _name(row), attempts, reason)
    return "failed"


def _name(row: DBTaskResult[Any, Any]) -> str:
    return str(row.task_path).rsplit(".", 1)[-1]


def execute(row: DBTaskResult[Any, Any]) -> str:
    """Run a claimed job and record its outcome: succeeded, retry or failed."""
    spec = _load_spec(row.task_path)
    try:
        task = row.task
        args = row.args_kwargs
        value = task.call(*args.get("args", []), **args.get("kwargs", {}))
        json.dumps(value)  # the return value is stored as JSON: fail now if it cannot be
    except Retry as exc:
        return _again_or_fail(row, spec, exc.reason, exc.after)
    except Exception as exc:
        if spec.retry_on and isinstance(exc, spec.retry_on):
            return _again_or_fail(row, spec, f"{type(exc).__name__}: {exc}", None)
        log.exception("job %s %s failed", row.pk, _name(row))
        text = "".join(traceback.format_exception(exc))
        _settle(row, **_failed(_path(type(exc)), text))
        return "failed"
    _settle(
        row,
        status=SUCCESSFUL,
        finished_at=clock.now(),
        return_value=value,
        exception_class_path="",
        traceback="",
    )
    return "succeeded"


def requeue_own(worker_id: str) -> int:
    """Put back in the queue the jobs this worker was running (it is stopping)."""
    count = 0
    for row in DBTaskResult.objects.filter(status=RUNNING):
        if row.worker_ids and row.worker_ids[-1] == worker_id:
            count += _lost(row, "the worker stopped before it finished")
    return count


def _lost(row: DBTaskResult[Any, Any], reason: str) -> int:
    spec = _load_spec(row.task_path)
    attempts = len(row.worker_ids)
    history = f"{row.traceback}attempt {attempts}: {reason}\n"
    if attempts < spec.max_attempts:
        changes: dict[str, Any] = {
            "status": READY,
            "run_after": clock.now(),
            "traceback": history,
            "exception_class_path": _path(WorkerLost),
        }
        log.warning("job %s %s: %s; queued again", row.pk, _name(row), reason)
    else:
        text = f"{history}gave up after {attempts} attempts: {reason}\n"
        changes = _failed(_path(WorkerLost), text)
        log.error("job %s %s failed: %s (attempt %d)", row.pk, _name(row), reason, attempts)
    return int(_settle(row, **changes))


def reap() -> dict[str, int]:
    """Requeue (or fail) jobs whose worker is gone; fail jobs past their time-out."""
    now = clock.now()
    workers = {w.id: w for w in WorkerProcess.objects.all()}
    out = {"lost": 0, "timed_out": 0}
    for row in DBTaskResult.objects.filter(status=RUNNING):
        owner = workers.get(row.worker_ids[-1]) if row.worker_ids else None
        if not _alive(owner, now):
            out["lost"] += _lost(row, "its worker stopped while running it")
            continue
        spec = _load_spec(row.task_path)
        started = row.started_at or now
        if started + dt.timedelta(seconds=spec.timeout) < now:
            text = f"{row.traceback}timed out: still running after {spec.timeout:g} s\n"
            if _settle(row, **_failed(_path(JobTimedOut), text)):
                out["timed_out"] += 1
                log.error("job %s %s timed out after %g s", row.pk, _name(row), spec.timeout)
    for worker in workers.values():
        if not _alive(worker, now - dt.timedelta(seconds=STALE_SECONDS * 10)):
            WorkerProcess.objects.filter(pk=worker.pk, beat_at=worker.beat_at).delete()
    return out


# -- the scheduler ------------------------------------------------------------------------


def schedule_due() -> list[str]:
    """Enqueue every periodic job that is due now, once; returns the names enqueued."""
    now = clock.now()
    done = []
    for periodic in periodic_jobs():
        try:
            with transaction.atomic():
                if _schedule_one(periodic.name, periodic, now):
                    done.append(periodic.name)
        except IntegrityError:  # another worker created its row at the same moment
            continue
    return done


def _schedule_one(name: str, periodic: Any, now: dt.datetime) -> bool:
    row = PeriodicRun.objects.filter(pk=name).first()
    if row is None:
        first = periodic.first_run(now)
        with transaction.atomic():
            row = PeriodicRun.objects.create(
                name=name, schedule=periodic.schedule, next_run_at=first
            )
    if row.schedule != periodic.schedule:  # the code changed the schedule: plan anew
        nxt = periodic.next_after(row.last_run_at) if row.last_run_at else periodic.first_run(now)
        PeriodicRun.objects.filter(pk=name, schedule=row.schedule).update(
            schedule=periodic.schedule, next_run_at=nxt
        )
        row.schedule, row.next_run_at = periodic.schedule, nxt
    if row.next_run_at is None or row.next_run_at > now:
        return False
    nxt = periodic.next_after(now)
    if not PeriodicRun.objects.filter(pk=name, next_run_at=row.next_run_at).update(
        next_run_at=nxt, last_run_at=now, runs=F("runs") + 1
    ):
        return False  # another worker took this run
    if periodic.when is not None and not periodic.when():
        return False  # nothing to do this time
    if (
        row.last_job_id
        and DBTaskResult.objects.filter(pk=row.last_job_id, status__in=[READY, RUNNING]).exists()
    ):
        log.info("periodic %s: the last run has not finished; this one is skipped", name)
        return False
    job_id = enqueue(periodic.task)
    PeriodicRun.objects.filter(pk=name).update(last_job_id=job_id)
    return True


# -- the loop -----------------------------------------------------------------------------


class Worker:
    """Runs due jobs on ``concurrency`` threads and the scheduler, until stopped."""

    def __init__(
        self,
        *,
        concurrency: int = 1,
        interval: float = 1.0,
        worker_id: str | None = None,
        parent_pid: int | None = None,
        periodic: bool = True,
    ) -> None:
        self.concurrency = concurrency
        self.interval = interval
        self.worker_id = worker_id or new_worker_id()
        self.parent_pid = parent_pid
        self.periodic = periodic
        self.stopping = threading.Event()
        self._changed = threading.Event()
        # ``concurrency`` long-lived threads take claimed jobs from this queue; each keeps
        # its database connection from job to job (a new one per job cost PostgreSQL's
        # connection set-up every time: 30 jobs/s)
        self._queue: queue.SimpleQueue[DBTaskResult[Any, Any] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._inflight = 0
        self._lock = threading.Lock()
        self.counts = {"succeeded": 0, "failed": 0, "retry": 0}

    def stop(self) -> None:
        """Take no new job; the loop ends when the running ones have finished."""
        self.stopping.set()
        self._changed.set()

    def _busy(self) -> int:
        with self._lock:
            return self._inflight

    def _run_in_thread(self, row: DBTaskResult[Any, Any]) -> None:
        with self._lock:
            self._inflight += 1
            start = len(self._threads) < self.concurrency
            if start:
                thread = threading.Thread(
                    target=self._thread_main, name=f"kith-job-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
        if start:
            thread.start()
        self._queue.put(row)

    def _thread_main(self) -> None:
        """One of the worker's threads: run the jobs it is handed until told to stop."""
        try:
            while (row := self._queue.get()) is not None:
                try:
                    self._count(execute(row))
                except Exception:  # execute records a job's own errors; this is the database's
                    log.exception("job %s %s: its outcome was not recorded", row.pk, _name(row))
                    connections.close_all()  # a broken connection is not used again
                finally:
                    with self._lock:
                        self._inflight -= 1
                    self._changed.set()
        finally:
            connections.close_all()  # this thread's own connection

    def _count(self, outcome: str) -> None:
        with self._lock:
            self.counts[outcome] = self.counts.get(outcome, 0) + 1

    def run(self, *, once: bool = False, inline: bool = False) -> dict[str, int]:
        """Work until stopped (or, ``once``, until nothing is due); returns the outcomes.

        ``inline`` runs each job in this thread (tests, and ``--once --concurrency 1``).
        """
        discover()
        register_worker(self.worker_id, self.concurrency)
        last_beat = 0.0
        try:
            while not self.stopping.is_set():
                if self.parent_pid is not None and os.getppid() != self.parent_pid:
                    log.warning("the server that started this worker is gone; stopping")
                    break
                if time.monotonic() - last_beat >= BEAT_SECONDS:
                    self._maintain()
                    last_beat = time.monotonic()
                try:
                    if self.periodic:
                        schedule_due()
                    claimed = self._fill(inline)
                except DatabaseError as exc:
                    if "locked" not in str(exc):  # SQLite busy with a long write: just wait
                        log.error("database error: %s; trying again", _one_line(exc))
                    claimed = 0
                    self.stopping.wait(max(self.interval, 1.0))
                if once and not claimed and not self._busy():
                    break
                if not claimed or self._busy() >= self.concurrency:
                    self._changed.wait(self.interval)
                    self._changed.clear()
        finally:
            self._finish()
        return dict(self.counts)

    def _fill(self, inline: bool) -> int:
        claimed = 0
        while not self.stopping.is_set() and self._busy() < self.concurrency:
            row = claim(self.worker_id)
            if row is None:
                break
            claimed += 1
            if inline:
                self._count(execute(row))
            else:
                self._run_in_thread(row)
        return claimed

    def _maintain(self) -> None:
        try:
            heartbeat(self.worker_id, self.concurrency)
            reap()
        except DatabaseError as exc:
            log.error("database error: %s; trying again", _one_line(exc))

    def _finish(self) -> None:
        """Wait for running jobs (a second Ctrl-C ends the wait), then sign off."""
        try:
            for _ in self._threads:
                self._queue.put(None)  # after the jobs already handed out
            for thread in self._threads:
                thread.join()
        finally:
            with contextlib.suppress(DatabaseError):
                deregister_worker(self.worker_id)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def run_pending(*, periodic: bool = True) -> dict[str, int]:
    """Run every due job (and, unless told not to, periodic run) in this thread until none
    is left: tests, where ``periodic=False`` leaves out other apps' schedules."""
    return Worker(concurrency=1, interval=0, periodic=periodic).run(once=True, inline=True)


@contextlib.contextmanager
def worker_row(worker_id: str) -> Iterator[str]:
    """Hold a worker row for the block (a test that claims jobs by hand)."""
    register_worker(worker_id)
    try:
        yield worker_id
    finally:
        WorkerProcess.objects.filter(pk=worker_id).delete()
