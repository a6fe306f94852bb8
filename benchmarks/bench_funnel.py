"""Funnel benchmark: the funnel from stage history at scale, against baselines in the same run.

Its own workspace, built each run (SQLite in a temporary folder, or with ``--pg`` a fresh
PostgreSQL database on 127.0.0.1 that is dropped afterwards): 50,000 deals (``--small``:
5,000) with 500,000 stage changes (``--small``: 50,000) over the year before the as-of
day, in a six-stage pipeline, with skips, regressions and losses; rows written with
``bulk_create`` (the setup is not what is measured), each change with how the record left
it, as the move service writes it.

Goal (issue 16): the funnel over 50,000 deals and 500,000 stage changes under 1 s.
Measured (median of 5): the year's funnel by count, by amount, and by source. Printed
beside two baselines in the same process on the same data:

- ``scan``: one SQL aggregate over the pipeline's stage changes up to the as-of day
  (``COUNT(*)`` grouped by stage: the least any funnel must read);
- ``python``: every stage change fetched in order and the funnel counted in Python
  (what a funnel computed outside the database costs).

Usage: ``python -m benchmarks funnel [--small] [--pg]``.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

GOAL_S = 1.0
RUNS = 5
AS_OF = dt.date(2026, 11, 30)


def _median(fn: Callable[[], Any], runs: int = RUNS) -> float:
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _pg_url() -> tuple[str, str]:
    import psycopg

    base = os.environ.get("KITH_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
    name = f"bench_funnel_{os.getpid()}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}", base


def _drop_pg(base: str, url: str) -> None:
    import psycopg

    name = url.rpartition("/")[2]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def build(deals: int, changes: int) -> str:
    """The pipeline, its deals (through the bulk loader) and their stage histories (rows
    as the move service writes them, each with how the record left it, inserted with
    ``executemany``); returns the pipeline key."""
    from django.db import connection, transaction

    from kith.bulk.services import load
    from kith.core.bulk import time_adapter
    from kith.core.ids import new_id
    from kith.pipelines.models import Stage
    from kith.pipelines.services import add_pipeline

    pipe = add_pipeline(
        type_key="deal",
        key="bench",
        stages=[
            ("lead", 0.1, "open"),
            ("qualified", 0.25, "open"),
            ("proposal", 0.5, "open"),
            ("negotiation", 0.75, "open"),
            ("won", 1.0, "won"),
            ("lost", 0.0, "lost"),
        ],
        reasons=["price", "competitor", "timing"],
    )
    stages = list(Stage.objects.filter(pipeline=pipe).order_by("position"))
    opens = [s for s in stages if s.category == "open"]
    won, lost = stages[4], stages[5]
    rng = random.Random(16)
    per = changes / deals
    when = time_adapter()
    start = dt.datetime.combine(AS_OF, dt.time(), tzinfo=dt.UTC) - dt.timedelta(days=365)
    sources = ["web", "referral", "event", "outbound", "partner"]
    recs: list[tuple[str, str, str, dict[str, Any]]] = []
    moves: list[list[Any]] = []
    places: list[tuple[Any, ...]] = []
    for i in range(deals):
        rid = new_id("del")
        fields = {"amount": float(rng.randrange(1, 500) * 100), "source": rng.choice(sources)}
        recs.append((rid, "deal", f"Deal {i}", fields))
        at = start + dt.timedelta(minutes=rng.randrange(300 * 24 * 60))
        n = max(1, int(rng.gauss(per, 2)))
        cur = opens[0]
        mine = [[rid, None, cur.pk, at, "", None, None, "", None]]
        for _ in range(n - 1):
            roll = rng.random()
            if cur.category != "open":
                nxt = rng.choice(opens)  # reopened
            elif roll < 0.55:  # forward, sometimes skipping one
                nxt = stages[min(cur.position + rng.choice((1, 1, 1, 2)), 4)]
            elif roll < 0.75:
                nxt = opens[max(cur.position - 1, 0)] if cur.position else opens[1]
            elif roll < 0.9:
                nxt = lost
            else:
                nxt = won
            if nxt.pk == cur.pk:
                continue
            at = at + dt.timedelta(minutes=rng.randrange(1, 3 * 24 * 60))
            why = rng.choice(["price", "competitor", "timing"]) if nxt.category == "lost" else ""
            prev = mine[-1]  # as the move service does: how the record left its last stage
            prev[5], prev[6], prev[7] = at, nxt.pk, why
            prev[8] = int((at - prev[3]).total_seconds() // 86400)
            mine.append([rid, cur.pk, nxt.pk, at, why, None, None, "", None])
            cur = nxt
        moves.extend(mine)
        places.append((rid, pipe.pk, cur.pk, when(at)))
    now = when(dt.datetime.combine(AS_OF, dt.time(18), tzinfo=dt.UTC))
    rows = [
        (r, pipe.pk, f, t, when(a), "bench", why, "", now, when(la) if la else None, lt, lr, dd)
        for r, f, t, a, why, la, lt, lr, dd in moves
    ]
    with transaction.atomic():
        load(records=recs)
        with connection.cursor() as cur_:
            cur_.executemany(
                "INSERT INTO pipelines_stagechange (record_id, pipeline_id, from_stage_id, "
                "to_stage_id, at, by, reason, note, recorded_at, left_at, left_to_id, "
                "left_reason, dwell_days) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
                "%s, %s)",
                rows,
            )
            cur_.executemany(
                "INSERT INTO pipelines_position (record_id, pipeline_id, stage_id, since) "
                "VALUES (%s, %s, %s, %s)",
                places,
            )
    with connection.cursor() as cur_:
        cur_.execute("ANALYZE")
    return pipe.key


def worker(url: str, small: bool) -> dict[str, Any]:
    import kith

    kith.open(url)
    from django.db import connection

    from kith.core import clock
    from kith.core.viewer import SYSTEM
    from kith.pipelines.funnel import funnel
    from kith.pipelines.models import StageChange

    deals, changes = (5_000, 50_000) if small else (50_000, 500_000)
    out: dict[str, Any] = {"backend": connection.vendor}
    with clock.travel(f"{AS_OF.isoformat()}T18:00:00Z"):
        t0 = time.perf_counter()
        key = build(deals, changes)
        out["setup_s"] = time.perf_counter() - t0
        out["deals"] = deals
        out["changes"] = StageChange.objects.filter(pipeline_id=key).count()
        first = (AS_OF - dt.timedelta(days=364)).isoformat()
        end = dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)

        def scan() -> None:
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT to_stage_id, COUNT(*) FROM pipelines_stagechange "
                    "WHERE pipeline_id = %s AND at < %s GROUP BY to_stage_id",
                    [key, end],
                )
                cur.fetchall()

        def in_python() -> None:
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT record_id, to_stage_id, at FROM pipelines_stagechange "
                    "WHERE pipeline_id = %s AND at < %s ORDER BY record_id, at, id",
                    [key, end],
                )
                counts: dict[tuple[Any, Any], int] = {}
                prev: tuple[Any, Any] | None = None
                for rid, stage, _ in cur.fetchall():
                    if prev is not None:
                        k = (prev[1], stage if prev[0] == rid else None)
                        counts[k] = counts.get(k, 0) + 1
                    prev = (rid, stage)

        out["funnel_s"] = _median(lambda: funnel(SYSTEM, pipeline=key, start=first, as_of=AS_OF))
        out["funnel_value_s"] = _median(
            lambda: funnel(SYSTEM, pipeline=key, start=first, as_of=AS_OF, value=True)
        )
        out["funnel_source_s"] = _median(
            lambda: funnel(SYSTEM, pipeline=key, start=first, as_of=AS_OF, by="source")
        )
        out["scan_s"] = _median(scan)
        out["python_s"] = _median(in_python)
        f = funnel(SYSTEM, pipeline=key, start=first, as_of=AS_OF)
        out["entries"] = sum(r["entries"] for r in f["rows"])
        out["parts_add_up"] = all(
            r["advanced"] + r["lost"] + r["moved_back"] + r["still"] == r["entries"]
            for r in f["rows"]
        )
    return out


def main(argv: list[str]) -> None:
    small = "--small" in argv
    pg = "--pg" in argv
    keep = os.environ.get("KITH_BENCH_KEEP")  # a folder to keep the SQLite workspace in
    tmp = keep or tempfile.mkdtemp(prefix="kith-bench-funnel-")
    base = ""
    if pg:
        url, base = _pg_url()
    else:
        url = f"sqlite:///{tmp}/funnel.db"
    os.environ["KITH_HOME"] = tmp
    try:
        out = worker(url, small)
    finally:
        if pg:
            _drop_pg(base, url)
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    f = out["funnel_s"]
    print(
        f"funnel benchmark ({out['backend']}): {out['deals']:,} deals, "
        f"{out['changes']:,} stage changes (setup {out['setup_s']:.1f} s)"
    )
    print(f"  entries in the window: {out['entries']:,}; parts add up: {out['parts_add_up']}")
    print(f"  funnel by count:  {f * 1000:8.1f} ms  (goal < {GOAL_S * 1000:.0f} ms: "
          f"{'met' if f < GOAL_S else 'NOT met'})")  # fmt: skip
    print(f"  funnel by amount: {out['funnel_value_s'] * 1000:8.1f} ms")
    print(f"  funnel by source: {out['funnel_source_s'] * 1000:8.1f} ms")
    print(f"  baseline scan (one GROUP BY over the changes): {out['scan_s'] * 1000:8.1f} ms "
          f"-> funnel = {f / out['scan_s']:.1f}x the scan")  # fmt: skip
    print(f"  baseline python (fetch every change, count in Python): "
          f"{out['python_s'] * 1000:8.1f} ms -> funnel = {f / out['python_s']:.2f}x")  # fmt: skip
    sys.stdout.flush()
