"""Intelligence benchmark: health of every person and organisation, of one 1,000-person
organisation, and one incremental update, on the core benchmark workspace (SQLite).

Baselines measured in the same run: one raw ``sqlite3`` pass over the participants table
(the floor for reading the data once), and a naive ORM loop (per person, per interaction)
for the same single organisation. Runs on a copy of the cached workspace.
Usage: ``python -m benchmarks intelligence [--small]``.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_ALL_S = 60.0
GOAL_ORG_MS = 200.0


def _copy(scale: str) -> Path:
    from benchmarks.workspace import ensure_workspace

    src = ensure_workspace(scale)
    folder = Path(tempfile.mkdtemp(prefix="kith-bench-intel-"))
    dst = folder / "ws.db"
    with sqlite3.connect(src) as con:  # a consistent copy even with a WAL beside it
        con.execute("PRAGMA wal_checkpoint(FULL)")
    shutil.copyfile(src, dst)
    return dst


def _ms(fn, runs: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def worker(db: str, end: str) -> dict[str, float]:
    import datetime as dt

    import kith

    kith.open(f"sqlite:///{db}")
    from kith.core.viewer import SYSTEM
    from kith.intelligence.conf import model_config
    from kith.intelligence.engine import compute
    from kith.intelligence.selectors import health
    from kith.intelligence.services import rebuild_pairstats
    from kith.interactions.models import Participant
    from kith.interactions.services import log_interaction
    from kith.relationships.models import Relationship
    from kith.relationships.selectors import team_ids

    day = dt.date.fromisoformat(end)
    out: dict[str, float] = {}
    # baseline: one raw pass over every participant row, grouped
    con = sqlite3.connect(db)
    t = time.perf_counter()
    con.execute(
        "SELECT COUNT(*) FROM (SELECT record_id, COUNT(*) FROM interactions_participant "
        "GROUP BY record_id)"
    ).fetchone()
    out["raw_scan_s"] = time.perf_counter() - t
    con.close()

    t = time.perf_counter()
    out["pair_rows"] = rebuild_pairstats()
    out["rebuild_s"] = time.perf_counter() - t
    cfg = model_config()
    t = time.perf_counter()
    snap = compute(cfg, day)
    out["all_s"] = time.perf_counter() - t
    out["people_scored"] = len(snap.person_score)
    out["orgs_scored"] = len(snap.orgs)
    from kith.core import clock
    from kith.intelligence.kept_services import rescore, rescore_records

    with clock.travel(f"{end}T12:00:00Z"):  # the kept scores of the workspace's last day
        t = time.perf_counter()
        rescore()
        out["rescore_s"] = time.perf_counter() - t

    anchor = (
        Relationship.objects.filter(type_id="works_at", until__isnull=True)
        .values("to_record_id")
        .annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("id"))
        .order_by("-n")
        .values_list("to_record_id", "n")
    )
    home_team = set(team_ids(day))
    org_id, size = next((o, n) for o, n in anchor if not home_team & {o})
    out["org_people"] = size
    compute(cfg, day, ("org", org_id))  # warm
    out["org_ms"] = _ms(lambda: compute(cfg, day, ("org", org_id)))
    out["org_health_call_ms"] = _ms(lambda: health(SYSTEM, org_id, as_of=day))

    # naive baseline for the same org: per person, per interaction ORM reads
    def naive() -> None:
        team = set(team_ids(day))
        people = Relationship.objects.filter(
            to_record_id=org_id, type_id="works_at", until__isnull=True
        ).values_list("from_record_id", flat=True)
        for pid in people:
            for part in Participant.objects.filter(record_id=pid).select_related("interaction"):
                others = Participant.objects.filter(interaction_id=part.interaction_id)
                _ = [o.record_id for o in others if o.record_id in team], part.interaction.kind

    out["naive_org_ms"] = _ms(naive, runs=1)

    member = sorted(home_team)[0]
    person = next(iter(sorted(snap.person_score)))
    n = 0

    def one() -> None:
        nonlocal n
        n += 1
        log_interaction(
            kind="meeting",
            participants=[(member, None), (person, None)],
            at=f"{end}T09:{n:02d}:00+00:00",
        )

    with clock.travel(f"{end}T12:00:00Z"):  # kept scores current: each log patches them
        out["log_one_ms"] = _ms(one)
        staff = Relationship.objects.filter(
            to_record_id=org_id, type_id="works_at", until__isnull=True
        ).values_list("from_record_id", flat=True)
        person = sorted(staff)[0]  # the biggest organisation's: the costliest patch
        out["log_anchor_ms"] = _ms(one)
        out["patch_anchor_ms"] = _ms(lambda: rescore_records(ids=[person], inline=True))
    return out


def main(argv: list[str]) -> None:
    from benchmarks.workspace import SPECS

    scale = "small" if "--small" in argv else "full"
    db = _copy(scale)
    end = SPECS[scale].end.isoformat()
    print(f"workspace: {scale} (copy at {db})", flush=True)
    code = (
        "import json, sys; from benchmarks.bench_intelligence import worker; "
        "print(json.dumps(worker(sys.argv[1], sys.argv[2])))"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, str(db), end],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "KITH_HOME": str(db.parent)},  # caches go with the copy
    )
    if res.returncode:
        print(res.stderr[-3000:])
        raise SystemExit(1)
    r = json.loads(res.stdout.strip().splitlines()[-1])
    shutil.rmtree(db.parent, ignore_errors=True)
    full = r["rebuild_s"] + r["all_s"]
    print(f"pair table rebuild ({r['pair_rows']:,} rows):   {r['rebuild_s']:8.1f} s")
    print(
        f"health of all {r['people_scored']:,} people + {r['orgs_scored']:,} orgs: "
        f"{r['all_s']:8.1f} s  (x{r['all_s'] / r['raw_scan_s']:.1f} a raw participants scan "
        f"of {r['raw_scan_s']:.2f} s)"
    )
    print(
        f"full recompute (rebuild + all scores):      {full:8.1f} s  "
        f"goal < {GOAL_ALL_S:.0f} s: {'ok' if full < GOAL_ALL_S else 'MISSED'}"
    )
    print(
        f"one org of {r['org_people']:,} people (compute): {r['org_ms']:8.1f} ms  "
        f"goal < {GOAL_ORG_MS:.0f} ms: {'ok' if r['org_ms'] < GOAL_ORG_MS else 'MISSED'}; "
        f"naive ORM loop {r['naive_org_ms']:.0f} ms (x{r['naive_org_ms'] / r['org_ms']:.0f} "
        "slower)"
    )
    print(f"kith health ORG (now + 90 days ago, reasons): {r['org_health_call_ms']:8.1f} ms")
    print(
        f"log one interaction (incremental update):    {r['log_one_ms']:8.1f} ms  "
        f"(full rebuild is x{r['rebuild_s'] * 1000 / r['log_one_ms']:.0f} that)"
    )
    print(
        f"kept scores, full rescore (kith rescore):    {r['rescore_s']:8.1f} s  "
        f"(x{r['rescore_s'] / r['all_s']:.1f} one whole-workspace computation: today and "
        "90 days earlier)"
    )
    print(
        f"log one interaction with a person of the {r['org_people']:,}-person org: "
        f"{r['log_anchor_ms']:8.1f} ms (the organisation is left to the worker, whose rescore "
        f"of it and the person takes {r['patch_anchor_ms']:.1f} ms)"
    )
