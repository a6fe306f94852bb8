"""Jobs the worker tests enqueue (module level, so a worker in another process finds them).

Each leaves evidence in a file (``KITH_TEST_JOB_LOG`` or the ``log`` argument) with one
``O_APPEND`` write per line, so a job run twice shows as two lines whichever process ran it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from kith.core import jobs

CALLS: list[str] = []  # in-process runs (tests in this process)


def _note(log: str, line: str) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{line}\n".encode())
    finally:
        os.close(fd)


@jobs.job()
def record(*, tag: str, log: str = "", pause: float = 0.0) -> str:
    """Note that ``tag`` ran (and the worker process), optionally after a pause."""
    if pause:
        time.sleep(pause)
    CALLS.append(tag)
    if log:
        _note(log, f"{tag} {os.getpid()}")
    return tag


@jobs.job(max_attempts=3, backoff=60)
def flaky(*, tag: str, succeed_on: int = 99) -> str:
    """Ask to be retried until the ``succeed_on``-th call."""
    CALLS.append(tag)
    if CALLS.count(tag) < succeed_on:
        raise jobs.Retry(f"{tag}: the peer said try later")
    return "ok"


@jobs.job(max_attempts=2, retry_on=(TimeoutError,), backoff=5)
def times_out(*, tag: str) -> None:
    """Fail with an error the job retries on."""
    CALLS.append(tag)
    raise TimeoutError(f"{tag}: no answer in 10 s")


@jobs.job()
def breaks(*, tag: str) -> None:
    """Fail with an error that is not retried."""
    CALLS.append(tag)
    raise ValueError(f"{tag}: bad data")


@jobs.job(max_attempts=3, timeout=600)
def slow_once(*, log: str, marker: str) -> str:
    """The first run notes its start and hangs (to be killed); a later run finishes."""
    _note(log, f"start {os.getpid()}")
    if not Path(marker).exists():
        Path(marker).write_text("started once")
        time.sleep(600)
    _note(log, f"done {os.getpid()}")
    return "done"


@jobs.job(max_attempts=1)
def hourly_probe() -> None:
    """A periodic job the scheduler tests register."""
    CALLS.append("hourly")
