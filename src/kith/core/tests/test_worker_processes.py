"""Real `kith worker` processes on SQLite and PostgreSQL: sharing a queue, kill -9, Ctrl-C."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

PG_SERVER = os.environ.get("KITH_TEST_PG_SERVER", "postgresql://postgres@127.0.0.1:5432")
KITH = [sys.executable, "-m", "kith"]
TABLE = "django_tasks_database_dbtaskresult"
ENV = {**os.environ, "KITH_JOB_MODULES": "kith.core.tests.sample_jobs", "KITH_DB": ""}

pytestmark = pytest.mark.slow


def _pg_database() -> Iterator[str]:
    name = f"kith_worker_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"no PostgreSQL server at {PG_SERVER}, and CI requires it")
        pytest.skip(f"no PostgreSQL server at {PG_SERVER}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'queue.db'}"
    else:
        yield from _pg_database()


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from _pg_database()


def python(url: str, code: str) -> str:
    """Run ``code`` in a fresh process with Kith open on ``url``; returns its stdout."""
    script = f"import kith, json\nkith.open({url!r})\n{code}"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=ENV, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def enqueue(url: str, calls: list[dict[str, Any]], job: str = "record") -> list[str]:
    out = python(
        url,
        "from kith.core import jobs\nfrom kith.core.tests import sample_jobs\n"
        f"ids = [jobs.enqueue(sample_jobs.{job}, **kw) for kw in {calls!r}]\n"
        "print(json.dumps(ids))",
    )
    ids: list[str] = json.loads(out)
    return ids


def query(url: str) -> Callable[[str], list[tuple[Any, ...]]]:
    """Read the queue's table directly (what a worker wrote, as committed)."""

    def run(sql: str) -> list[tuple[Any, ...]]:
        if url.startswith("sqlite"):
            con = sqlite3.connect(url[len("sqlite:///") :], timeout=30)
            try:
                return con.execute(sql).fetchall()
            finally:
                con.close()
        with psycopg.connect(url) as con:
            return con.execute(sql).fetchall()

    return run


def start_worker(url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*KITH, "--db", url, "worker", "--interval", "0.1", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def wait_for(check: Callable[[], bool], seconds: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def statuses(url: str) -> Counter[str]:
    return Counter(s for (s,) in query(url)(f"SELECT status FROM {TABLE}"))


def stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def test_two_workers_share_the_queue_and_run_each_job_once(url: str, tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    n = 200
    enqueue(url, [{"tag": f"j{i}", "log": str(log), "pause": 0.01} for i in range(n)])
    started = time.monotonic()
    workers = [start_worker(url, "--concurrency", "2") for _ in range(2)]
    try:
        wait_for(lambda: statuses(url)["SUCCESSFUL"] == n, 120, f"{n} jobs to succeed")
        took = time.monotonic() - started
    finally:
        # Ctrl-C to both at once, as a deployment stops: one at a time, the stopping SQLite
        # worker's last writes could wait behind the other's polling past the busy timeout
        # (seen once in a full run: no exit within 60 s)
        for w in workers:
            w.send_signal(signal.SIGINT)
        results = []
        for w in workers:
            _, err = w.communicate(timeout=60)
            results.append((w.returncode, err))
    assert [code for code, _ in results] == [0, 0], results
    assert "Traceback" not in "".join(err for _, err in results)
    lines = log.read_text().split()
    tags, pids = lines[0::2], lines[1::2]
    assert sorted(tags) == sorted(f"j{i}" for i in range(n))  # every job, none twice
    assert len(set(pids)) == 2  # both workers took a share
    ran_by = query(url)(f"SELECT worker_ids FROM {TABLE}")
    assert all(len(json.loads(w) if isinstance(w, str) else w) == 1 for (w,) in ran_by)
    assert not query(url)("SELECT id FROM core_workerprocess")  # both signed off
    print(f"{n} jobs on 2 workers x 2 threads ({url.split(':')[0]}): {took:.1f} s")


def test_a_job_killed_mid_way_runs_again_on_the_next_start(url: str, tmp_path: Path) -> None:
    log, marker = tmp_path / "slow.log", tmp_path / "marker"
    enqueue(url, [{"log": str(log), "marker": str(marker)}], job="slow_once")
    first = start_worker(url, "--concurrency", "1")
    wait_for(lambda: log.exists() and "start" in log.read_text(), 60, "the job to start")
    first.kill()  # kill -9: no clean-up at all
    first.wait(timeout=30)
    assert statuses(url) == Counter({"RUNNING": 1})  # left looking in progress ...
    again = subprocess.run(
        [*KITH, "--db", url, "worker", "--once", "--concurrency", "1"],
        capture_output=True, text=True, env=ENV, timeout=120,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "its worker stopped while running it; queued again" in again.stderr
    assert "ran 1 job(s): 1 succeeded" in again.stdout
    assert statuses(url) == Counter({"SUCCESSFUL": 1})  # ... until the next worker starts
    assert [line.split()[0] for line in log.read_text().splitlines()] == ["start", "start", "done"]
    ((ids,),) = query(url)(f"SELECT worker_ids FROM {TABLE}")
    assert len(json.loads(ids) if isinstance(ids, str) else ids) == 2


def test_ctrl_c_lets_the_running_job_finish_then_stops(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    log = tmp_path / "ctrlc.log"
    enqueue(url, [{"tag": "long", "log": str(log), "pause": 2.0}])
    proc = start_worker(url, "--concurrency", "1")
    wait_for(lambda: statuses(url)["RUNNING"] == 1, 60, "the job to start")
    code, err = stop(proc)
    assert code == 0, err
    assert "stopping: letting 1 running job(s) finish" in err
    assert statuses(url) == Counter({"SUCCESSFUL": 1}) and log.read_text().startswith("long ")
    assert not query(url)("SELECT id FROM core_workerprocess")


def test_worker_errors_are_one_line(tmp_path: Path) -> None:
    for args, message in (
        (["--db", "postgresql://postgres@127.0.0.1:1/none", "worker", "--once"],
         "the database is unreachable"),
        (["--db", f"sqlite:///{tmp_path / 'x.db'}", "worker", "--concurrency", "0"],
         "--concurrency: 0 is not between 1 and 64"),
    ):  # fmt: skip
        done = subprocess.run([*KITH, *args], capture_output=True, text=True, env=ENV, timeout=60)
        assert done.returncode == 1
        assert message in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_serve_runs_a_worker_beside_the_web_app_and_stops_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**ENV, "KITH_HOME": str(tmp_path), "KITH_DB": url}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server = subprocess.Popen(
        [*KITH, "serve", "--port", str(port), "--workers", "1", "--threads", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:

        def worker_up() -> bool:
            try:
                return bool(query(url)("SELECT id FROM core_workerprocess"))
            except sqlite3.OperationalError:  # not migrated yet
                return False

        wait_for(worker_up, 60, "a worker")
        enqueue(url, [{"tag": "served", "log": str(tmp_path / "s.log")}])
        wait_for(lambda: statuses(url)["SUCCESSFUL"] == 1, 30, "the job to run")
    finally:
        server.send_signal(signal.SIGINT)
        out, _ = server.communicate(timeout=60)
    assert "and one background job worker" in out
    assert not query(url)("SELECT id FROM core_workerprocess"), out  # stopped with it
