"""``kith worker``: run the job queue and the periodic scheduler (kith.core.worker)."""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType
from typing import Annotated

import typer

from kith.cli.output import JsonOpt, emit, open_workspace, say, table


def cmd_worker(
    once: Annotated[
        bool, typer.Option("--once", help="Run what is due now (and the scheduler), then exit.")
    ] = False,
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="Jobs run at once (threads).")
    ] = 2,
    interval: Annotated[
        float, typer.Option("--interval", help="Seconds between looks at an empty queue.")
    ] = 1.0,
    parent: Annotated[int | None, typer.Option("--parent", hidden=True)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run queued background jobs and the periodic scheduler until Ctrl-C.

    Several workers may share one PostgreSQL database; no job runs twice. Ctrl-C lets
    the running jobs finish (a second Ctrl-C stops them; they run again later)."""
    from kith.core.errors import ValidationError

    if not 1 <= concurrency <= 64:
        raise ValidationError(
            f"--concurrency: {concurrency} is not between 1 and 64", field="concurrency"
        )
    if not 0.05 <= interval <= 3600:
        raise ValidationError(
            f"--interval: {interval} is not between 0.05 and 3600 seconds", field="interval"
        )
    open_workspace()
    from django.db import connection

    from kith.conf import masked_url
    from kith.core.worker import Worker

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("kith worker: %(message)s"))
    logger = logging.getLogger("kith.worker")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False

    worker = Worker(concurrency=concurrency, interval=interval, parent_pid=parent)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if worker.stopping.is_set():
            raise KeyboardInterrupt
        logger.info("stopping: letting %d running job(s) finish (Ctrl-C again to stop now)",
                    worker._busy())  # fmt: skip
        worker.stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    db = connection.settings_dict
    where = db["NAME"] if connection.vendor == "sqlite" else masked_url(_pg_url(db))
    if not once:
        logger.info(
            "%s running %d job(s) at a time on %s %s (Ctrl-C stops)",
            worker.worker_id, concurrency, connection.vendor, where,
        )  # fmt: skip
    counts = worker.run(once=once, inline=once and concurrency == 1)
    if once or as_json:
        outcome = {k: counts.get(k, 0) for k in ("succeeded", "failed", "retry")}
        emit(
            {"ran": sum(outcome.values()), **outcome},
            as_json,
            lambda v: say(
                f"ran {v['ran']} job(s): {v['succeeded']} succeeded, "
                f"{v['failed']} failed, {v['retry']} to retry"
            ),
        )


def _pg_url(db: dict[str, object]) -> str:
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "localhost"
    return f"postgresql://{user}{password}@{host}:{db.get('PORT') or 5432}/{db.get('NAME')}"


def cmd_jobs(
    failed: Annotated[
        bool, typer.Option("--failed", help="Only failed or timed-out jobs.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List background jobs, newest first: queued, running, done or failed (and why)."""
    open_workspace()
    from kith.core.selectors import recent_jobs

    rows = recent_jobs(failed=failed, limit=limit)

    def render(data: list[dict[str, object]]) -> None:
        if not data:
            say("no jobs")
            return
        table(
            None,
            ["id", "job", "status", "attempts", "enqueued", "finished", "error"],
            [
                [str(r["id"])[:8], str(r["job"]).rsplit(".", 1)[-1], r["status"], r["attempts"],
                 str(r["enqueued_at"] or "")[:19], str(r["finished_at"] or "")[:19], r["error"]]
                for r in data
            ],
        )  # fmt: skip

    emit(rows, as_json, render)


def register(app: typer.Typer) -> None:
    app.command("worker")(cmd_worker)
    app.command("jobs")(cmd_jobs)
