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
``--fresh`` recreates it). Options: ``--clients=16 --seconds=30 --workers=N``.
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
            roll = self.rng.random()
            hub = self.rng.choice(self.seed["hubs"])
            person = self.rng.choice(self.seed["people"])
            if roll < 0.4:
                op, method, path, body = (
                    "person_100_rels",
                    "GET",
                    f"/api/v1/records/{hub}/relationships?limit=100",
                    None,
                )
            elif roll < 0.6:
                op, method, path, body = "record", "GET", f"/api/v1/records/{person}", None
            elif roll < 0.8:
                op, method, path, body = (
                    "timeline",
                    "GET",
                    f"/api/v1/records/{person}/timeline?limit=20",
                    None,
                )
            else:
                seq += 1
                ext = f"bench-{self.seed['run']}-{self.n}-{seq}"
                op, method, path = "log_interaction", "POST", "/api/v1/interactions"
                body = {
                    "kind": "call",
                    "participants": [{"ref": person}, {"ref": hub}],
                    "subject": "load test",
                    "external_id": ext,
                }
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


def main(argv: list[str]) -> None:
    clients = int(_opt(argv, "--clients", "16"))
    seconds = float(_opt(argv, "--seconds", "30"))
    workers = int(_opt(argv, "--workers", str(max(2, os.cpu_count() or 2))))
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
        [
            str(kith),
            "--db",
            url,
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--threads",
            "8",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait(port)
        # warm up every worker's connections and code paths
        warm = Client(99, port, seed["tokens"][0], seed, time.monotonic() + 2)
        warm.run()
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
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    _report(url, seed, threads, elapsed, clients, workers, log_name)


def _report(
    url: str,
    seed: dict[str, Any],
    threads: list[Client],
    elapsed: float,
    clients: int,
    workers: int,
    log_name: str,
) -> None:
    import psycopg

    samples: dict[str, list[float]] = {}
    for t in threads:
        for op, values in t.samples.items():
            samples.setdefault(op, []).extend(values)
    errors = [e for t in threads for e in t.errors]
    acked = [a for t in threads for a in t.acked]
    total = sum(len(v) for v in samples.values())
    every = [x for v in samples.values() for x in v]
    print(f"\n{clients} clients, {elapsed:.1f} s, server: {workers} gunicorn workers x 8 threads")
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
    with psycopg.connect(url) as conn:
        found = {
            r[0]
            for r in conn.execute(
                "SELECT external_id FROM interactions_interaction WHERE external_id = ANY(%s)",
                (acked,),
            ).fetchall()
        }
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
        raise SystemExit(1)


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
