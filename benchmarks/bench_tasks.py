"""Keep-in-touch benchmark: the scheduled cadence scan with 10,000 cadences on the core
benchmark workspace (1,000,000 interactions; ``--small``: 100,000), SQLite.

Baselines in the same run: the same scan with 1,000 cadences (the scan should grow with
the cadences: about 10x the work, so no more than ~10x the time), and one raw ``sqlite3``
``COUNT(*)`` of the interactions (what a scan that read the interactions would cost at
the least). Each scan is timed opening every task (first run) and again (nothing new: the
dedupe keys update in place), with its query count. Runs on a copy of the workspace.
Usage: ``python -m benchmarks tasks [--small]``.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

GOAL_SCAN_S = 10.0
FEW, MANY = 1_000, 10_000


def _copy(scale: str) -> Path:
    from benchmarks.workspace import ensure_workspace

    src = ensure_workspace(scale)
    folder = Path(tempfile.mkdtemp(prefix="kith-bench-tasks-"))
    dst = folder / "ws.db"
    with sqlite3.connect(src) as con:  # a consistent copy even with a WAL beside it
        con.execute("PRAGMA wal_checkpoint(FULL)")
    shutil.copyfile(src, dst)
    return dst


def worker(db: str, end: str) -> dict[str, Any]:
    import datetime as dt
    import random

    import kith

    kith.open(f"sqlite:///{db}")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kith.core import clock
    from kith.core.ids import new_id
    from kith.core.viewer import SYSTEM
    from kith.intelligence.services import ensure_pairstats
    from kith.records.models import Record
    from kith.relationships.selectors import team_ids
    from kith.tasks.cadence_selectors import last_contacts
    from kith.tasks.cadence_services import scan_cadences
    from kith.tasks.models import Cadence, Task, TaskLink

    day = dt.date.fromisoformat(end)
    out: dict[str, Any] = {}
    ensure_pairstats()

    raw = sqlite3.connect(db)
    t = time.perf_counter()
    out["interactions"] = raw.execute("SELECT COUNT(*) FROM interactions_interaction").fetchone()[0]
    out["raw_count_s"] = time.perf_counter() - t
    t = time.perf_counter()
    raw.execute("SELECT COUNT(*), MAX(at) FROM interactions_participant").fetchone()
    out["raw_participants_s"] = time.perf_counter() - t
    raw.close()

    team = set(team_ids(day))
    ids = list(
        Record.objects.filter(type_id__in=["person", "organization"], deleted_at__isnull=True)
        .exclude(pk__in=team)
        .values_list("id", flat=True)
    )
    rng = random.Random(7)
    chosen = rng.sample(sorted(ids), MANY)
    members = sorted(team)

    def add(batch: list[str]) -> None:  # setup, not measured: straight into the table
        Cadence.objects.bulk_create(
            [
                Cadence(
                    id=new_id("cad", rng),
                    record_id=rid,
                    member_id=members[i % len(members)] if i % 4 == 0 else None,
                    counts="member" if i % 8 == 0 else "team",
                    ideal_days=rng.choice([14, 30, 60, 90]),
                    max_days=120,
                )
                for i, rid in enumerate(batch)
            ],
            batch_size=1000,
        )

    def scan(label: str, n: int) -> None:
        with clock.travel(f"{end}T06:00:00Z"), CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            counts = scan_cadences(day)
            out[f"{label}_s"] = time.perf_counter() - t
        out[f"{label}_queries"] = len(ctx.captured_queries)
        out[f"{label}_counts"] = counts
        assert counts["cadences"] == n, counts

    def lasts(label: str) -> None:
        t = time.perf_counter()
        found = last_contacts(None, day, viewer=SYSTEM)
        out[f"{label}_lasts_s"] = time.perf_counter() - t
        out[f"{label}_with_contact"] = len(found)

    add(chosen[:FEW])
    lasts("few")
    scan("few_first", FEW)
    scan("few_again", FEW)
    # the same start for the 10,000: no cadence task open yet
    TaskLink.objects.all().delete()
    Task.objects.all().delete()
    add(chosen[FEW:])
    lasts("many")
    scan("many_first", MANY)
    scan("many_again", MANY)
    return out


def main(argv: list[str]) -> None:
    from benchmarks.workspace import SPECS

    scale = "small" if "--small" in argv else "full"
    db = _copy(scale)
    end = SPECS[scale].end.isoformat()
    print(f"workspace: {scale} (copy at {db})", flush=True)
    code = (
        "import json, sys; from benchmarks.bench_tasks import worker; "
        "print(json.dumps(worker(sys.argv[1], sys.argv[2])))"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, str(db), end],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "KITH_HOME": str(db.parent)},
    )
    if res.returncode:
        print(res.stderr[-3000:])
        raise SystemExit(1)
    r = json.loads(res.stdout.strip().splitlines()[-1])
    shutil.rmtree(db.parent, ignore_errors=True)
    raw = r["raw_count_s"]
    print(
        f"baseline: raw COUNT(*) of {r['interactions']:,} interactions: {raw * 1000:8.1f} ms; "
        f"a pass over the participants: {r['raw_participants_s'] * 1000:8.1f} ms"
    )
    for label, n in (("few", FEW), ("many", MANY)):
        print(
            f"last two-way contact of {n:,} cadences (one query): "
            f"{r[f'{label}_lasts_s'] * 1000:8.1f} ms ({r[f'{label}_with_contact']:,} with one)"
        )
        for run in ("first", "again"):
            key = f"{label}_{run}"
            c = r[f"{key}_counts"]
            print(
                f"scan of {n:>6,} cadences, {run:>5} ({c['overdue']:,} overdue: {c['opened']:,} "
                f"opened, {c['updated']:,} updated, {c['closed']:,} closed): "
                f"{r[f'{key}_s']:7.2f} s in {r[f'{key}_queries']:,} queries"
            )
    many, few = r["many_first_s"], r["few_first_s"]
    again = r["many_again_s"] / r["few_again_s"]
    print(
        f"10x the cadences: x{many / few:.1f} the time opening tasks, x{again:.1f} again "
        f"(x{r['many_lasts_s'] / r['few_lasts_s']:.1f} for the last-contact query); "
        f"queries x{r['many_first_queries'] / r['few_first_queries']:.1f}"
    )
    print(
        f"the 10,000 scan is x{many / raw:.0f} a raw count of the interactions; "
        f"goal < {GOAL_SCAN_S:.0f} s: {'ok' if many < GOAL_SCAN_S else 'MISSED'}"
    )
