"""Job-queue benchmark: enqueueing and running no-op jobs through ``kith.core.worker``.

1. Enqueue N no-op jobs in one transaction (``kith.core.jobs.enqueue``); the baseline,
   in the same run: the same number of plain ORM inserts into a table of Kith's own
   (``core.Counter`` rows), so the figure is the queue's overhead per job.
2. Run them with one worker in this process (``--concurrency``, threads): jobs/s, each
   claimed with its conditional UPDATE and finished with another.

``python -m benchmarks worker [--jobs=N] [--concurrency=N] [--pg=URL]``: SQLite in a
temporary file by default; PostgreSQL with ``--pg=postgresql://postgres@127.0.0.1:5432/
bench_worker`` (the database is dropped and created).
"""

from __future__ import annotations

import os
import tempfile
import time

from benchmarks.bench_rules import _arg


def noop_job(*, n: int) -> int:
    """The benchmark's job body: nothing, so the figure is the queue's own cost."""
    return n


def _open(argv: list[str]) -> str:
    import kith

    pg = _arg(argv, "--pg", "")
    if pg:
        import psycopg

        base, _, name = pg.rpartition("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            con.execute(f'CREATE DATABASE "{name}"')
        kith.open(pg)
        return f"PostgreSQL ({pg})"
    path = os.path.join(tempfile.mkdtemp(prefix="kith-bench-worker-"), "kith.db")
    kith.open(f"sqlite:///{path}")
    return f"SQLite ({path})"


def main(argv: list[str]) -> None:
    where = _open(argv)
    from django.db import transaction

    from kith.core import jobs
    from kith.core.models import Counter
    from kith.core.worker import Worker

    count = int(_arg(argv, "--jobs", "2000"))
    threads = int(_arg(argv, "--concurrency", "4"))
    task = jobs.job()(noop_job)
    globals()["noop_job"] = task  # the worker finds the job by this module path

    started = time.perf_counter()
    with transaction.atomic():
        for i in range(count):
            Counter.objects.create(name=f"bench-worker-{i}")
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    with transaction.atomic():
        for i in range(count):
            jobs.enqueue(task, n=i)
    queued = time.perf_counter() - started
    rate = count / queued
    print(f"{where}: enqueue {count} jobs: {queued:.2f} s ({rate:,.0f}/s); "
          f"baseline {count} ORM inserts: {baseline:.2f} s; "
          f"ratio {queued / baseline:.1f}x")  # fmt: skip

    started = time.perf_counter()
    counts = Worker(concurrency=threads, interval=0.05, periodic=False).run(once=True)
    took = time.perf_counter() - started
    done, failed = counts.get("succeeded", 0), counts.get("failed", 0)
    print(f"run {done} jobs on {threads} thread(s): {took:.2f} s ({done / took:,.0f} jobs/s), "
          f"failed {failed}")  # fmt: skip
