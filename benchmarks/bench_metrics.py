"""Metric catalogue benchmark: a metric for a saved view of every organisation.

Its own workspace (SQLite, in a temporary folder, built each run): ``kith demo``'s generator
(3,000 people, 200 organisations, 30,000 interactions; ``--small``: 1,000, 80, 8,000) and the
demo plan's outcomes on the anchor's meetings. A user's saved view lists every organisation.

No fixed goal in the issue; the figure printed is each view metric's time against a baseline
measured in the same run: the same metric asked for each of the view's records one at a time
(``measure`` in a loop, what a caller without the view scope would do). A ratio under 1 is
the batched read paying off; ``health`` has no many-records form yet (its ratio is ~1).

Usage: ``python -m benchmarks metrics [--small]``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

END = "2026-11-30"
KEYS = ("interactions.two_way", "outcomes", "people.engaged", "team.in_touch", "health")


def worker(db: str, small: bool) -> dict[str, Any]:
    import datetime as dt

    import kith

    kith.open(f"sqlite:///{db}")
    from kith.accounts.selectors import get_user, viewer_of
    from kith.accounts.services import add_user
    from kith.core import clock
    from kith.demo.generator import Spec
    from kith.demo.services import load_demo
    from kith.lists.services import save_view
    from kith.metrics.catalogue import get_metric
    from kith.metrics.selectors import find_view, measure, show_view, view_members
    from kith.plans.demo import seed_demo_outcomes

    out: dict[str, Any] = {}
    end = dt.date.fromisoformat(END)
    spec = Spec(
        people=1_000 if small else 3_000,
        orgs=80 if small else 200,
        team=12,
        relationships=2_000 if small else 6_000,
        interactions=8_000 if small else 30_000,
        seed=13,
        end=end,
    )
    with clock.travel(f"{END}T09:00:00Z"):
        demo = load_demo(spec=spec)
        out["outcomes_set"] = seed_demo_outcomes(demo["anchor_org"])
        add_user(email="bench@our.test", role="member", password="a long password 1")
        viewer = viewer_of(get_user("bench@our.test"))
        save_view(viewer=viewer, type_key="organization", name="All orgs", query={})
        for key in KEYS:
            t = time.perf_counter()
            got = show_view(viewer, key, "All orgs")
            view_s = time.perf_counter() - t
            t = time.perf_counter()
            records, _ = view_members(viewer, find_view(viewer, "All orgs"), get_metric(key), end)
            each = [measure(viewer, key, r, as_of=end) for r in records]
            base_s = time.perf_counter() - t
            out[key] = {
                "view_s": view_s,
                "base_s": base_s,
                "records": got["scope"]["records"],
                "value": got["value"],
                "checked": len(each),
            }
    return out


def main(argv: list[str]) -> None:
    small = "--small" in argv
    folder = Path(tempfile.mkdtemp(prefix="kith-bench-metrics-"))
    db = folder / "ws.db"
    code = (
        "import json, sys; from benchmarks.bench_metrics import worker; "
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
    print(f"demo outcomes set on the anchor's meetings: {r['outcomes_set']}")
    for key in KEYS:
        f = r[key]
        print(
            f"{key:22} view of {f['records']} organisations: {f['view_s'] * 1000:7.0f} ms; "
            f"baseline one at a time {f['base_s'] * 1000:7.0f} ms; "
            f"ratio {f['view_s'] / f['base_s']:.2f} (value {f['value']})"
        )
