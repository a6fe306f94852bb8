"""Load test of the HTTP server on loopback against PostgreSQL.

16 concurrent clients for 30 s (``--clients N --seconds S``) against ``kith serve``:
reading record pages (a person with 100 relationships, records, timelines) and logging
interactions. Reports throughput, p50/p95/p99 per operation, errors (must be zero), and
checks that every acknowledged write is in the database. The baseline, measured in the
same run, is the same relationship read as one raw SQL query over psycopg.

The workspace is the "small" benchmark data set (10,000 people, 1,000 organisations,
30,000 relationships, 100,000 interactions) loaded into PostgreSQL by the same generator
and bulk loader, plus 50 people with 100 relationships each. PostgreSQL: ``KITH_BENCH_PG``
(default postgresql://postgres@127.0.0.1:5432/kith_bench_load; reused once seeded,
``--fresh`` recreates it). Options: ``--clients=16 --seconds=30 --workers=2``.

Then, against the same two server processes, an open loop (``OpenRun``): the same mix sent
at fixed rates whatever the answers take (``--rates=25,50,100``, ``--open-seconds=20``
each, so a bounded number of requests), latency measured from each request's due time;
p50/p95/p99 per operation and for the reads, errors (must be zero), acknowledged writes
found afterwards (must be all), and the server's CPU per request beside the raw SQL time
of the same reads; before it, each operation alone (CPU per request of the server, its job
worker and the database backends). ``--mode=closed|open|both|profile`` (default both;
profile: only the operations alone). Goal: the reads at 50 req/s p95 < 50 ms with zero
errors.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

GOAL_P95_MS = 50.0
HUBS = 50
HUB_DEGREE = 100
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/kith_bench_load"

SEED = r"""
import json, random, sys, datetime as dt
import kith
kith.open(sys.argv[1])
from benchmarks.workspace import SPECS
from kith.demo.services import load_demo
from kith.bulk.services import load
from kith.records.models import Record
from kith.accounts.models import ApiToken
from kith.accounts.services import add_user, create_token
from kith.core.ids import new_id
built = False
if not Record.objects.filter(name="Hub Person 49").exists():
    built = True
    load_demo(spec=SPECS["small"])
    rng = random.Random(7)
    people = list(Record.objects.filter(type_id="person").values_list("id", flat=True)[:5000])
    orgs = list(Record.objects.filter(type_id="organization").values_list("id", flat=True))
    hubs = [(new_id("per", rng), "person", f"Hub Person {i:02d}", {}) for i in range(50)]
    rels = []
    for hub in hubs:
        for other in rng.sample(people, 90):
            rels.append((new_id("rel", rng), "knows", hub[0], other, "", dt.date(2020, 1, 1), None))
        for org in rng.sample(orgs, 10):
            rels.append((new_id("rel", rng), "works_at", hub[0], org, "advisor", None, None))
    load(records=hubs, relationships=rels, source="bench")
    for i in range(16):
        add_user(email=f"client{i}@bench.test", role="member", password="bench password 1")
from django.db import connection
if connection.vendor == "postgresql":
    with connection.cursor() as cur:  # planner statistics, as autovacuum would gather
        cur.execute("SELECT reltuples FROM pg_class WHERE relname = 'records_record'")
        if built or cur.fetchone()[0] < 0:
            cur.execute("ANALYZE")
ApiToken.objects.filter(user__username__endswith="@bench.test").delete()
tokens = [create_token(email=f"client{i}@bench.test", expires_days=1)[1] for i in range(16)]
hubs = list(Record.objects.filter(name__startswith="Hub Person ").values_list("id", flat=True))
people = list(
    Record.objects.filter(type_id="person").exclude(name__startswith="Hub Person ")
    .order_by("id").values_list("id", flat=True)[:2000]
)
print(json.dumps({"hubs": hubs, "people": people, "tokens": tokens, "built": built}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare_db(url: str, fresh: bool) -> None:
    """Create the database (dropping it first with ``fresh``); else reuse its data."""
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def choose(rng: random.Random, seed: dict[str, Any], tag: str) -> tuple[str, str, str, Any]:
    """One request of the mix: 80% reads (a person with 100 relationships, a record, a
    timeline), 20% logging an interaction (external id ``bench-RUN-TAG``)."""
    roll = rng.random()
    hub = rng.choice(seed["hubs"])
    person = rng.choice(seed["people"])
    if roll < 0.4:
        return "person_100_rels", "GET", f"/api/v1/records/{hub}/relationships?limit=100", None
    if roll < 0.6:
        return "record", "GET", f"/api/v1/records/{person}", None
    if roll < 0.8:
        return "timeline", "GET", f"/api/v1/records/{person}/timeline?limit=20", None
    body = {
        "kind": "call",
        "participants": [{"ref": person}, {"ref": hub}],
        "subject": "load test",
        "external_id": f"bench-{seed['run']}-{tag}",
    }
    return "log_interaction", "POST", "/api/v1/interactions", body


class Client(threading.Thread):
    def __init__(self, n: int, port: int, token: str, seed: dict[str, Any], until: float) -> None:
        super().__init__(daemon=True)
        self.n, self.port, self.token, self.seed, self.until = n, port, token, seed, until
        self.samples: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self.acked: list[str] = []
        self.rng = random.Random(n)

    def _request(
        self, conn: http.client.HTTPConnection, method: str, path: str, body: Any = None
    ) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {self.token}", "Connection": "keep-alive"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        seq = 0
        while time.monotonic() < self.until:
            seq += 1
            op, method, path, body = choose(self.rng, self.seed, f"{self.n}-{seq}")
            started = time.perf_counter()
            try:
                status, payload = self._request(conn, method, path, body)
            except (OSError, http.client.HTTPException) as exc:
                self.errors.append(f"{op}: {exc!r}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                continue
            took = (time.perf_counter() - started) * 1000
            if status >= 300:
                self.errors.append(f"{op}: HTTP {status} {payload[:200]!r}")
                continue
            self.samples.setdefault(op, []).append(took)
            if op == "log_interaction":
                self.acked.append(json.loads(payload)["external_id"])
        conn.close()


def _baseline(url: str, hubs: list[str], rounds: int = 400) -> list[float]:
    """The same person's relationships as one raw SQL query (no Django, no HTTP)."""
    import psycopg

    sql = (
        "SELECT r.id, r.type_key, r.role, r.since, r.until, o.id, o.name, o.type_key "
        "FROM relationships_relationship r JOIN records_record o ON o.id = r.to_record_id "
        "WHERE r.from_record_id = %s AND o.deleted_at IS NULL "
        "UNION ALL "
        "SELECT r.id, r.type_key, r.role, r.since, r.until, o.id, o.name, o.type_key "
        "FROM relationships_relationship r JOIN records_record o ON o.id = r.from_record_id "
        "WHERE r.to_record_id = %s AND o.deleted_at IS NULL"
    )
    out = []
    with psycopg.connect(url) as conn:
        for i in range(rounds):
            hub = hubs[i % len(hubs)]
            started = time.perf_counter()
            rows = conn.execute(sql, (hub, hub)).fetchall()
            out.append((time.perf_counter() - started) * 1000)
            assert len(rows) == HUB_DEGREE
    return out


def _found(url: str, external_ids: list[str]) -> set[str]:
    """Which of these acknowledged writes the database holds."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT external_id FROM interactions_interaction WHERE external_id = ANY(%s)",
            (external_ids,),
        ).fetchall()
    return {r[0] for r in rows}


def _tree(pid: int) -> dict[int, str]:
    """``pid`` and its descendants, each with its command line."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = {}, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/cmdline", "rb") as fh:
                out[p] = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        todo.extend(children.get(p, []))
    return out


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds these processes have used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / tick


def _db_backends(url: str) -> list[int]:
    """Process ids of the PostgreSQL backends serving ``url``'s database now (the server's
    connections: the load generator holds none while it sends)."""
    import psycopg

    name = url.rpartition("/")[2]
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return [int(r[0]) for r in rows]


class OpenRun:
    """An open loop: requests sent at a fixed rate whatever the answers take.

    Request i is due at ``start + i / rate``; each of ``connections`` threads sends the
    requests i = k, k + connections, ... on its own keep-alive connection, and a request's
    latency runs from the time it was due, not from when it could be sent (a slow answer
    delays the thread's next sends, and that wait counts). Bounded: ``rate x seconds``
    requests, then it stops. The server's CPU (the gunicorn master and workers, and apart
    the job worker ``kith serve`` starts) is read from /proc before and after.
    """

    def __init__(
        self, port: int, seed: dict[str, Any], rate: float, seconds: float, server_pid: int
    ) -> None:
        self.port, self.seed, self.rate, self.server_pid = port, seed, rate, server_pid
        self.total = int(rate * seconds)
        self.connections = min(64, max(8, int(rate // 2)))
        self.samples: dict[str, list[float]] = {}
        self.lag: list[float] = []  # how late the load generator itself sent (ms)
        self.errors: list[str] = []
        self.acked: list[str] = []
        self.elapsed = 0.0
        self.web_cpu = self.job_cpu = self.db_cpu = 0.0
        self.url = ""
        self._lock = threading.Lock()

    def _thread(self, k: int, start: float) -> None:
        rng = random.Random(1000 + k)
        token = self.seed["tokens"][k % len(self.seed["tokens"])]
        client = Client(k, self.port, token, self.seed, 0)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        for i in range(k, self.total, self.connections):
            due = start + i / self.rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            sent = time.perf_counter()
            op, method, path, body = choose(rng, self.seed, f"r{self.rate:g}-{i}")
            try:
                status, payload = client._request(conn, method, path, body)
            except (OSError, http.client.HTTPException) as exc:
                with self._lock:
                    self.errors.append(f"{op}: {exc!r}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                continue
            done = time.perf_counter()
            with self._lock:
                self.lag.append((sent - due) * 1000)
                if status >= 300:
                    self.errors.append(f"{op}: HTTP {status} {payload[:200]!r}")
                    continue
                self.samples.setdefault(op, []).append((done - due) * 1000)
                if op == "log_interaction":
                    self.acked.append(json.loads(payload)["external_id"])
        conn.close()

    def run(self) -> OpenRun:
        tree = _tree(self.server_pid)
        job = [p for p, cmd in tree.items() if " worker --parent" in cmd]
        web = [p for p in tree if p not in job]
        web0, job0 = _cpu_seconds(web), _cpu_seconds(job)
        # the database's own CPU: a query plan that scans is paid there, not in the server
        # (backends opened during the run start from 0, closed ones are missed: the server
        # keeps its connections, CONN_MAX_AGE)
        db_before = {p: _cpu_seconds([p]) for p in _db_backends(self.url)} if self.url else {}
        start = time.perf_counter() + 0.2
        threads = [
            threading.Thread(target=self._thread, args=(k, start), daemon=True)
            for k in range(self.connections)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.elapsed = time.perf_counter() - start
        time.sleep(0.5)  # the last answers' bookkeeping
        self.web_cpu = _cpu_seconds(web) - web0
        self.job_cpu = _cpu_seconds(job) - job0
        if self.url:
            after = _db_backends(self.url)
            self.db_cpu = sum(_cpu_seconds([p]) - db_before.get(p, 0.0) for p in after)
        print(
            f"open loop at {self.rate:g} req/s: {self.total} requests sent in "
            f"{self.elapsed:.1f} s, {len(self.errors)} errors",
            flush=True,
        )
        return self


def _op_request(
    op: str, rng: random.Random, seed: dict[str, Any], tag: str
) -> tuple[str, str, Any]:
    """One request of operation ``op`` of the mix (method, path, body)."""
    while True:
        name, method, path, body = choose(rng, seed, tag)
        if name == op:
            return method, path, body


def profile_ops(
    port: int, seed: dict[str, Any], server_pid: int, url: str, rounds: int = 40
) -> dict[str, dict[str, float]]:
    """Each operation of the mix alone, ``rounds`` requests one after another on one
    connection: the server's CPU (web processes), its job worker's and the database
    backends' per request, read from /proc around the run. CPU time, unlike latency, is
    little moved by what else the machine runs."""
    tree = _tree(server_pid)
    job = [p for p, cmd in tree.items() if " worker --parent" in cmd]
    web = [p for p in tree if p not in job]
    client = Client(0, port, seed["tokens"][0], seed, 0)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    rng = random.Random(11)
    out: dict[str, dict[str, float]] = {}
    for op in (*READS, "log_interaction"):
        for i in range(3):  # this operation's code paths and plans warm
            method, path, body = _op_request(op, rng, seed, f"pw-{op}-{i}")
            client._request(conn, method, path, body)
        db0 = {p: _cpu_seconds([p]) for p in _db_backends(url)}
        web0, job0 = _cpu_seconds(web), _cpu_seconds(job)
        walls = []
        for i in range(rounds):
            method, path, body = _op_request(op, rng, seed, f"p-{seed['run']}-{op}-{i}")
            started = time.perf_counter()
            status, payload = client._request(conn, method, path, body)
            walls.append((time.perf_counter() - started) * 1000)
            if status >= 300:
                raise SystemExit(f"profile: {op} answered HTTP {status}: {payload[:200]!r}")
        time.sleep(0.3)  # the job worker's share of the writes
        db = sum(_cpu_seconds([p]) - db0.get(p, 0.0) for p in _db_backends(url))
        out[op] = {
            "web": (_cpu_seconds(web) - web0) * 1000 / rounds,
            "job": (_cpu_seconds(job) - job0) * 1000 / rounds,
            "db": db * 1000 / rounds,
            "wall": _pct(walls, 50),
        }
    conn.close()
    return out


def _report_profile(profile: dict[str, dict[str, float]], raw: dict[str, list[float]]) -> None:
    print("\nper operation, alone (CPU ms per request; raw SQL: the same read over psycopg)")
    print(f"{'operation':<17}{'server':>8}{'database':>10}{'job':>6}{'wall p50':>10}{'raw SQL':>9}")
    for op, v in profile.items():
        base = f"{sum(raw[op]) / len(raw[op]):>9.2f}" if op in raw else f"{'-':>9}"
        print(f"{op:<17}{v['web']:>8.1f}{v['db']:>10.1f}{v['job']:>6.1f}{v['wall']:>10.1f}{base}")
    cpus = os.cpu_count() or 1
    mix = {"person_100_rels": 0.4, "record": 0.2, "timeline": 0.2, "log_interaction": 0.2}
    total = sum(w * (profile[op]["web"] + profile[op]["db"] + profile[op]["job"])
                for op, w in mix.items())  # fmt: skip
    print(
        f"the mix: {total:.1f} ms of CPU per request (server + database + job worker): "
        f"at most {cpus * 1000 / max(total, 1e-6):.0f} req/s on {cpus} CPUs with nothing else "
        "running (the load generator's own CPU not counted)"
    )


READS = ("person_100_rels", "record", "timeline")
RAW_SQL = {
    # the same reads as raw SQL over psycopg (no Django, no HTTP): the floor of each
    "person_100_rels": [
        "SELECT r.id, r.type_key, r.role, r.since, r.until, o.id, o.name, o.type_key "
        "FROM relationships_relationship r JOIN records_record o ON o.id = r.to_record_id "
        "WHERE r.from_record_id = %(id)s AND o.deleted_at IS NULL "
        "UNION ALL "
        "SELECT r.id, r.type_key, r.role, r.since, r.until, o.id, o.name, o.type_key "
        "FROM relationships_relationship r JOIN records_record o ON o.id = r.from_record_id "
        "WHERE r.to_record_id = %(id)s AND o.deleted_at IS NULL"
    ],
    "record": [
        "SELECT * FROM records_record WHERE id = %(id)s",
        'SELECT kind, value, normalized, label, "primary" FROM records_contactpoint '
        "WHERE record_id = %(id)s",
    ],
    "timeline": [
        "SELECT i.*, p2.record_id, o.name, p2.role FROM ("
        "  SELECT interaction_id, at FROM interactions_participant WHERE record_id = %(id)s "
        "  ORDER BY at DESC LIMIT 20) t "
        "JOIN interactions_interaction i ON i.id = t.interaction_id "
        "JOIN interactions_participant p2 ON p2.interaction_id = i.id "
        "JOIN records_record o ON o.id = p2.record_id ORDER BY t.at DESC"
    ],
}


def _raw_reads(url: str, seed: dict[str, Any], rounds: int = 300) -> dict[str, list[float]]:
    """Milliseconds of each read of the mix as raw SQL, on the same kind of ids."""
    import psycopg

    rng = random.Random(5)
    out: dict[str, list[float]] = {op: [] for op in READS}
    with psycopg.connect(url) as conn:
        for i in range(rounds):
            op = READS[i % len(READS)]
            rid = rng.choice(seed["hubs"] if op == "person_100_rels" else seed["people"])
            started = time.perf_counter()
            for sql in RAW_SQL[op]:
                conn.execute(sql, {"id": rid}).fetchall()
            out[op].append((time.perf_counter() - started) * 1000)
    return out


def _report_open(url: str, seed: dict[str, Any], runs: list[OpenRun], workers: int,
                 log_name: str, profile: dict[str, dict[str, float]]) -> bool:  # fmt: skip
    raw = _raw_reads(url, seed)
    if profile:
        _report_profile(profile, raw)
    raw_mean = {op: sum(v) / len(v) for op, v in raw.items()}
    # the mix's reads are 40% relationships, 20% records, 20% timelines
    raw_per_read = (2 * raw_mean["person_100_rels"] + raw_mean["record"] + raw_mean["timeline"]) / 4
    failed = False
    print(f"\nopen loop against {workers} server processes (gunicorn workers x 8 threads); "
          "latency from each request's due time")  # fmt: skip
    print(
        f"{'rate':>6} {'operation':<17}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
    )
    for run in runs:
        reads = [x for op in READS for x in run.samples.get(op, [])]
        rows = [(op, run.samples[op]) for op in sorted(run.samples)]
        rows += [("reads", reads), ("all", [x for v in run.samples.values() for x in v])]
        for op, v in rows:
            print(
                f"{run.rate:>6g} {op:<17}{len(v):>6}{_pct(v, 50):>9.1f}{_pct(v, 95):>9.1f}"
                f"{_pct(v, 99):>9.1f}{max(v, default=float('nan')):>9.1f}"
            )
        answered = sum(len(v) for v in run.samples.values())
        found = _found(url, run.acked)
        missing = len(set(run.acked) - found)
        cpu_ms = run.web_cpu * 1000 / max(answered, 1)
        print(
            f"       achieved {answered / run.elapsed:.1f} req/s; errors {len(run.errors)}; "
            f"acknowledged writes {len(run.acked)}, found {len(found)}, missing {missing}; "
            f"load generator sent late by p95 {_pct(run.lag, 95):.1f} ms"
        )
        print(
            f"       server CPU per request {cpu_ms:.1f} ms (web processes; the job worker "
            f"{run.job_cpu * 1000 / max(answered, 1):.1f} ms more); raw SQL of the same reads "
            f"{raw_per_read:.2f} ms per read: CPU/raw {cpu_ms / max(raw_per_read, 1e-6):.0f}x"
        )
        print(
            f"       database CPU per request {run.db_cpu * 1000 / max(answered, 1):.1f} ms "
            "(the PostgreSQL backends serving the server and its job worker)"
        )
        for e in run.errors[:5]:
            print("       error:", e)
        failed |= bool(run.errors or missing)
        if run.rate == 50:
            p95 = _pct(reads, 95)
            verdict = "met" if p95 < GOAL_P95_MS and not run.errors else "NOT met"
            print(
                f"       goal at 50 req/s: reads p95 < {GOAL_P95_MS:.0f} ms with zero errors: "
                f"{p95:.1f} ms, {len(run.errors)} errors, {verdict}"
            )
    print(
        "raw SQL per read (mean ms): "
        + ", ".join(f"{op} {raw_mean[op]:.2f} (p95 {_pct(raw[op], 95):.2f})" for op in READS)
    )
    if failed:
        print(f"FAILED: errors or missing writes in the open loop (server log: {log_name})")
    return failed


def main(argv: list[str]) -> None:
    clients = int(_opt(argv, "--clients", "16"))
    seconds = float(_opt(argv, "--seconds", "30"))
    workers = int(_opt(argv, "--workers", "2"))
    mode = _opt(argv, "--mode", "both")
    rates = [float(r) for r in _opt(argv, "--rates", "25,50,100").split(",")]
    open_seconds = float(_opt(argv, "--open-seconds", "20"))
    url = os.environ.get("KITH_BENCH_PG", DEFAULT_PG)
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": f"{root}:{root / 'src'}", "KITH_RATE_LIMIT": "100000000"}
    fresh = "--fresh" in argv
    print(f"database: {url} ({'recreated' if fresh else 'reused when already seeded'})")
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    _prepare_db(url, fresh)
    started = time.perf_counter()
    seeded = subprocess.run(
        [sys.executable, "-c", SEED, url], env=env, check=True, capture_output=True, text=True
    )
    seed = json.loads(seeded.stdout.strip().splitlines()[-1])
    seed["run"] = f"{int(time.time())}"
    print(
        f"seeded the small workspace + {HUBS} people x {HUB_DEGREE} relationships "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    port = _free_port()
    log_name = str(Path(tempfile.gettempdir()) / f"kith-bench-load-{port}.log")
    log = open(log_name, "w")  # noqa: SIM115 (the server writes it until terminated)
    kith = Path(sys.executable).parent / "kith"
    server = subprocess.Popen(
        [str(kith), "--db", url, "serve", "--port", str(port), "--workers", str(workers),
         "--threads", "8"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    threads: list[Client] = []
    runs: list[OpenRun] = []
    profile: dict[str, dict[str, float]] = {}
    elapsed = 0.0
    try:
        _wait(port)
        # warm up every worker's connections and code paths
        warm = Client(99, port, seed["tokens"][0], seed, time.monotonic() + 2)
        warm.run()
        if mode in ("closed", "both"):
            until = time.monotonic() + seconds
            threads = [
                Client(i, port, seed["tokens"][i % len(seed["tokens"])], seed, until)
                for i in range(clients)
            ]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - t0
        if mode in ("open", "both", "profile"):
            profile = profile_ops(port, seed, server.pid, url)
        if mode in ("open", "both"):
            for rate in rates:
                time.sleep(2)  # let the previous run's stragglers and jobs settle
                run = OpenRun(port, seed, rate, open_seconds, server.pid)
                run.url = url
                runs.append(run.run())
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    failed = False
    if threads:
        failed |= _report(url, seed, threads, elapsed, clients, workers, log_name)
    if runs:
        failed |= _report_open(url, seed, runs, workers, log_name, profile)
    elif profile:
        _report_profile(profile, _raw_reads(url, seed))
    if failed:
        raise SystemExit(1)


def _report(
    url: str,
    seed: dict[str, Any],
    threads: list[Client],
    elapsed: float,
    clients: int,
    workers: int,
    log_name: str,
) -> bool:

    samples: dict[str, list[float]] = {}
    for t in threads:
        for op, values in t.samples.items():
            samples.setdefault(op, []).extend(values)
    errors = [e for t in threads for e in t.errors]
    acked = [a for t in threads for a in t.acked]
    total = sum(len(v) for v in samples.values())
    every = [x for v in samples.values() for x in v]
    print(f"\nclosed loop: {clients} clients, {elapsed:.1f} s, server: {workers} gunicorn "
          "workers x 8 threads")  # fmt: skip
    print(f"requests: {total}  throughput: {total / elapsed:.0f} req/s  errors: {len(errors)}")
    print(f"{'operation':<18}{'n':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
    for op in sorted(samples):
        v = samples[op]
        print(f"{op:<18}{len(v):>8}{_pct(v, 50):>10.1f}{_pct(v, 95):>10.1f}{_pct(v, 99):>10.1f}")
    print(
        f"{'all':<18}{len(every):>8}{_pct(every, 50):>10.1f}{_pct(every, 95):>10.1f}"
        f"{_pct(every, 99):>10.1f}"
    )
    for e in errors[:10]:
        print("  error:", e)
    found = _found(url, acked)
    missing = len(set(acked) - found)
    print(f"acknowledged writes: {len(acked)}; in the database: {len(found)}; missing: {missing}")
    base = _baseline(url, seed["hubs"])
    rels = samples.get("person_100_rels", [])
    p95 = _pct(rels, 95)
    print(
        f"baseline (raw SQL, same 100-relationship read): p50 {_pct(base, 50):.2f} ms, "
        f"p95 {_pct(base, 95):.2f} ms; API/baseline at p50: "
        f"{_pct(rels, 50) / max(_pct(base, 50), 1e-6):.1f}x"
    )
    verdict = "met" if p95 < GOAL_P95_MS else "NOT met"
    print(
        f"goal p95 < {GOAL_P95_MS:.0f} ms reading a person with 100 relationships: "
        f"{p95:.1f} ms, {verdict}"
    )
    if errors or missing:
        print(
            f"FAILED: {len(errors)} errors, {missing} acknowledged writes missing "
            f"(server log: {log_name})"
        )
    return bool(errors or missing)


def _wait(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not start on port {port}")


def _opt(argv: list[str], name: str, default: str) -> str:
    for i, a in enumerate(argv):
        if a == name and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return default
