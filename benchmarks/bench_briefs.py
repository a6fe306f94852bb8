"""Briefs benchmark: the brief of a large account, against baselines measured in the same run.

Its own workspace (SQLite, in a temporary folder, built each run): ``kith demo``'s generator
(full: 12,000 people, 1,000 organisations, 150,000 interactions, a 1,000-person anchor
account; ``--small``: 3,000 people, 200 organisations, 30,000 interactions, a 300-person
anchor), then the anchor topped up through the bulk loader until 10,000 interactions
(``--small``: 2,000) involve its people, spread over the year before the as-of day.

Goal (issue 14): the brief of an organisation with 10,000 interactions under 300 ms.
Printed beside two baselines measured in the same process on the same data:

- the account's health with its reasons (``kith health``: one scoring of the account, the
  least any brief must do; the brief scores it twice, now and at the window's start);
- a raw ``sqlite3`` read of the window's interactions of the account's people (the rows
  the "what changed" section summarises).

Usage: ``python -m benchmarks briefs [--small]``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

GOAL_BRIEF_S = 0.3
END = "2026-11-30"
RUNS = 5


def _median(fn: Any, runs: int = RUNS) -> float:
    fn()  # warm: imports, the first statement preparation
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def worker(db: str, small: bool) -> dict[str, Any]:
    import datetime as dt
    import random
    import sqlite3

    import kith

    kith.open(f"sqlite:///{db}")
    from kith.briefs.render import as_text
    from kith.briefs.selectors import brief, changes_since
    from kith.bulk.services import load
    from kith.core import clock
    from kith.core.ids import new_id
    from kith.core.viewer import SYSTEM
    from kith.demo.generator import Spec
    from kith.demo.services import load_demo
    from kith.intelligence import aggregates as agg
    from kith.intelligence.selectors import health
    from kith.intelligence.services import ensure_pairstats
    from kith.relationships.selectors import team_ids

    out: dict[str, Any] = {}
    end = dt.date.fromisoformat(END)
    spec = Spec(
        people=3_000 if small else 12_000,
        orgs=200 if small else 1_000,
        team=12,
        relationships=6_000 if small else 24_000,
        interactions=30_000 if small else 150_000,
        seed=14,
        end=end,
        anchor_size=300 if small else 1_000,
    )
    want = 2_000 if small else 10_000
    t0 = time.perf_counter()
    with clock.travel(f"{END}T09:00:00Z"):
        demo = load_demo(spec=spec)
        anchor = demo["anchor_org"]
        team = sorted(team_ids(end))
        people = sorted(p for p, _, _ in agg.employment(end, anchor) if p not in set(team))
        con = sqlite3.connect(db)
        marks = ",".join("?" * len(people))
        have = con.execute(
            f"SELECT COUNT(DISTINCT interaction_id) FROM interactions_participant "
            f"WHERE record_id IN ({marks})",
            people,
        ).fetchone()[0]
        rng = random.Random(14)
        kinds = [("email", "in"), ("email", "out"), ("meeting", ""), ("call", "out")]
        start = dt.datetime(end.year, end.month, end.day, 17, tzinfo=dt.UTC)
        bundles = []
        for _ in range(max(want - have, 0)):
            kind, direction = rng.choice(kinds)
            at = start - dt.timedelta(minutes=rng.randrange(365 * 24 * 60))
            them, us = rng.choice(people), rng.choice(team)
            parts = (
                [(them, "from"), (us, "to")] if direction == "in" else [(us, "from"), (them, "to")]
            )
            if kind == "meeting":
                parts = [(them, "attendee"), (us, "organiser")]
            bundles.append(
                ((new_id("int"), kind, at, "Bench", direction, None, None), parts, [anchor])
            )
        load(interactions=bundles)
        ensure_pairstats()
        out["anchor_people"] = len(people)
        out["anchor_interactions"] = con.execute(
            f"SELECT COUNT(DISTINCT interaction_id) FROM interactions_participant "
            f"WHERE record_id IN ({marks})",
            people,
        ).fetchone()[0]
        out["setup_s"] = time.perf_counter() - t0
        since = (end - dt.timedelta(days=29)).isoformat()

        def read_window() -> None:
            con.execute(
                "SELECT i.id, i.kind, i.at, i.direction FROM interactions_interaction i "
                "JOIN interactions_participant p ON p.interaction_id = i.id "
                f"WHERE p.record_id IN ({marks}) AND p.at >= ? ORDER BY i.at",
                [*people, since],
            ).fetchall()

        def the_brief() -> dict[str, Any]:
            return brief(SYSTEM, anchor, since=since, as_of=end)

        out["brief_s"] = _median(the_brief)
        out["brief_text_s"] = _median(lambda: as_text(the_brief()))
        out["changes_s"] = _median(lambda: changes_since(SYSTEM, anchor, since, end))
        out["health_s"] = _median(lambda: health(SYSTEM, anchor, as_of=end))
        out["raw_s"] = _median(read_window)
        b = the_brief()
        out["lines"] = sum(len(s["lines"]) for s in b["sections"])
        out["suggestions"] = len(b["suggestions"])
        out["window_interactions"] = next(
            (i["data"]["total"] for i in b["changes"] if i["kind"] == "interactions"), 0
        )
    return out


def main(argv: list[str]) -> None:
    small = "--small" in argv
    folder = Path(tempfile.mkdtemp(prefix="kith-bench-briefs-"))
    db = folder / "ws.db"
    print(f"workspace: {'small' if small else 'full'} briefs workspace (built at {db})", flush=True)
    code = (
        "import json, sys; from benchmarks.bench_briefs import worker; "
        "print(json.dumps(worker(sys.argv[1], sys.argv[2] == '1')))"
    )
    env = {**os.environ, "KITH_HOME": str(folder), "KITH_RATE_LIMIT": "0"}
    res = subprocess.run(
        [sys.executable, "-c", code, str(db), "1" if small else "0"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    shutil.rmtree(folder, ignore_errors=True)
    if res.returncode:
        print(res.stderr[-3000:])
        raise SystemExit(1)
    r = json.loads(res.stdout.strip().splitlines()[-1])
    print(
        f"setup {r['setup_s']:.0f} s; the anchor: {r['anchor_people']:,} people, "
        f"{r['anchor_interactions']:,} interactions ({r['window_interactions']:,} in the "
        f"30-day window); the brief has {r['lines']} lines and {r['suggestions']} suggestions"
    )
    b, h, raw = r["brief_s"], r["health_s"], r["raw_s"]
    verdict = "ok" if b < GOAL_BRIEF_S else "MISSED"
    print(
        f"brief of the account: {b * 1000:.0f} ms (median of {RUNS}); goal < "
        f"{GOAL_BRIEF_S * 1000:.0f} ms: {verdict}"
    )
    print(f"  baseline, the account's health with reasons: {h * 1000:.0f} ms: x{b / h:.2f}")
    print(f"  baseline, raw sqlite3 read of the window's rows: {raw * 1000:.1f} ms: x{b / raw:.1f}")
    print(
        f"  what changed alone: {r['changes_s'] * 1000:.0f} ms (x{r['changes_s'] / h:.2f} "
        f"health); brief rendered as text: {r['brief_text_s'] * 1000:.0f} ms"
    )
