"""Web imports are worker jobs: queued with the start, run once, surviving a restart or kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_user
from kith.core import worker
from kith.core.tests.test_worker_processes import _pg_database, query, wait_for
from kith.imports import jobs
from kith.imports.selectors import import_beat_path, import_status
from kith.records.models import Record

KITH = [sys.executable, "-m", "kith"]
ENV = {**os.environ, "KITH_DB": "", "KITH_PERIODIC_ONLY": "test."}  # no other app's schedules
IMPORT_TASK = "kith.imports.jobs.run_import_task"


def _csv(n: int, start: int = 0) -> bytes:
    rows = "".join(f"Person {i},p{i}@people.example\n" for i in range(start, start + n))
    return f"Name,Email\n{rows}".encode()


def test_starting_an_import_on_the_web_queues_it_for_the_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KITH_RATE_LIMIT", "0")
    add_user(email="member@our.test", role="member", password="correct horse battery")
    user = get_user("member@our.test")
    job = jobs.create_import_job(viewer=viewer_of(user), filename="p.csv", content=_csv(5))
    web = Client()
    web.force_login(user)
    assert web.post(f"/import/{job.pk}/start").status_code == 302
    job.refresh_from_db()
    queued = DBTaskResult.objects.get(pk=job.options["queue_job"])
    assert queued.status == "READY" and job.status == "running"
    assert import_status(job) == "running"  # waiting for the worker, not "stopped"
    assert Record.objects.filter(name__startswith="Person ").count() == 0
    assert worker.run_pending(periodic=False)["succeeded"] == 1
    job.refresh_from_db()
    assert job.status == "done" and Record.objects.filter(name__startswith="Person ").count() == 5
    # the same job run again (a retry after its worker died) imports nothing twice
    assert jobs.run_import_task.call(job_id=job.pk, run=job.options["run"]) == "done"
    assert Record.objects.filter(name__startswith="Person ").count() == 5


def test_a_relaunch_supersedes_the_earlier_queued_run() -> None:
    add_user(email="member@our.test", role="member", password="correct horse battery")
    user = get_user("member@our.test")
    job = jobs.create_import_job(viewer=viewer_of(user), filename="p.csv", content=_csv(3))
    jobs.start_import_job(job=job)
    first = jobs.launch_import_job(job.pk)
    second = jobs.launch_import_job(job.pk)
    worker.run_pending(periodic=False)
    results = {
        str(r.pk): r.return_value for r in DBTaskResult.objects.filter(task_path=IMPORT_TASK)
    }
    assert results == {first: "superseded", second: "done"}
    assert Record.objects.filter(name__startswith="Person ").count() == 3


# -- real processes --------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'imports.db'}"
    else:
        yield from _pg_database()


QUEUE = """
import kith, sys
kith.open(sys.argv[1])
from pathlib import Path
from kith.accounts.services import add_user
from kith.accounts.selectors import get_user, viewer_of
from kith.imports import jobs
add_user(email="member@our.test", role="member", password="correct horse battery")
user = get_user("member@our.test")
job = jobs.create_import_job(viewer=viewer_of(user), filename="big.csv",
                             content=Path(sys.argv[2]).read_bytes())
jobs.start_import_job(job=job)
print(jobs.launch_import_job(job.pk))
"""


def _progress(url: str, job_id: str) -> int:
    """Rows a running import has read, from its heartbeat (a file on SQLite, the job row else)."""
    if not url.startswith("sqlite"):
        return int(query(url)(f"SELECT done FROM web_importjob WHERE id = '{job_id}'")[0][0] or 0)
    try:
        with open(import_beat_path(job_id), encoding="utf-8") as fh:
            return int(json.load(fh)["done"])
    except (OSError, ValueError, KeyError):
        return 0


@pytest.mark.slow
def test_a_web_import_survives_a_restart_and_a_killed_worker(url: str, tmp_path: Path) -> None:
    rows = 40_000
    source = tmp_path / "big.csv"
    source.write_bytes(_csv(rows))
    # queued while no worker runs (the server stopped before anything picked it up)
    made = subprocess.run(
        [sys.executable, "-c", QUEUE, url, str(source)],
        capture_output=True, text=True, env=ENV, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    job_table = "django_tasks_database_dbtaskresult"
    first = subprocess.Popen(
        [*KITH, "--db", url, "worker", "--concurrency", "1", "--interval", "0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    running = (
        f"SELECT count(*) FROM {job_table} WHERE status = 'RUNNING' AND task_path = '{IMPORT_TASK}'"
    )
    wait_for(lambda: query(url)(running)[0][0] == 1, 60, "the import to start")
    # killed once its heartbeat shows rows read and not all of them: well into the import,
    # which is one transaction, so nothing is committed yet (a fixed sleep raced a fast run)
    ((job_id,),) = query(url)("SELECT id FROM web_importjob")
    wait_for(lambda: 0 < _progress(url, job_id) < rows, 120, "the import's first progress")
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    people = "SELECT count(*) FROM records_record WHERE name LIKE 'Person %'"
    assert query(url)(people)[0][0] == 0  # the cut-short run left nothing behind
    again = subprocess.run(
        [*KITH, "--db", url, "worker", "--once", "--concurrency", "1"],
        capture_output=True, text=True, env=ENV, timeout=300,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert query(url)(people)[0][0] == rows  # every row, none twice
    ((status, report),) = query(url)("SELECT status, report FROM web_importjob")
    assert status == "done", report
    ((ids,),) = query(url)(f"SELECT worker_ids FROM {job_table} WHERE task_path = '{IMPORT_TASK}'")
    assert len(json.loads(ids) if isinstance(ids, str) else ids) == 2
