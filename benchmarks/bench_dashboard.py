"""Dashboard benchmark: a dashboard of 8 widgets on the benchmark workspace, against its
widgets' reads one by one in the same run.

The workspace: a copy of the cached benchmark workspace (``benchmarks.workspace``; the
"small" scale by default: 10,000 people, 1,000 organisations, 100,000 interactions;
``--full`` the 100,000-person one), with a deals pipeline of 5,000 deals and their stage
changes added as ``bench_funnel`` writes them.

Goal (issue 16): a dashboard of 8 widgets under 300 ms. The dashboard: won amount with the
previous period, open pipeline, win rate as a line of six periods, the funnel, the funnel
by source, and the won amount, two-way interactions and people engaged of the busiest
organisation. Printed beside the baseline ``widgets``: each widget's own read once (one
``measure`` or ``funnel`` call per widget, no comparison or series), so the ratio is what
comparisons, series and the dashboard's own work cost.

Usage: ``python -m benchmarks dashboard [--full]``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from benchmarks.bench_funnel import AS_OF, build

GOAL_S = 0.3
RUNS = 5


def _median(fn: Callable[[], Any], runs: int = RUNS) -> float:
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str]) -> None:
    from benchmarks.workspace import ensure_workspace

    scale = "full" if "--full" in argv else "small"
    source = ensure_workspace(scale)
    tmp = tempfile.mkdtemp(prefix="kith-bench-dashboard-")
    db = os.path.join(tmp, "dash.db")
    shutil.copy(source, db)
    os.environ["KITH_HOME"] = tmp
    try:
        out = worker(db)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    d, base = out["dashboard_s"], out["widgets_s"]
    print(
        f"dashboard benchmark ({scale} workspace, {out['deals']:,} deals, "
        f"{out['changes']:,} changes)"
    )
    print(f"  8-widget dashboard: {d * 1000:8.1f} ms  (goal < {GOAL_S * 1000:.0f} ms: "
          f"{'met' if d < GOAL_S else 'NOT met'}); widget errors: {out['errors']}")  # fmt: skip
    print(f"  baseline widgets (each widget's read once): {base * 1000:8.1f} ms "
          f"-> dashboard = {d / base:.2f}x")  # fmt: skip


def worker(db: str) -> dict[str, Any]:
    import kith

    kith.open(f"sqlite:///{db}")
    from django.db import connection

    from kith.core import clock
    from kith.core.viewer import SYSTEM
    from kith.metrics.selectors import measure
    from kith.pipelines.dashboards import dashboard_view
    from kith.pipelines.funnel import funnel
    from kith.pipelines.models import StageChange
    from kith.pipelines.services import save_dashboard
    from kith.records.models import Record
    from kith.relationships.services import relate

    out: dict[str, Any] = {}
    with clock.travel(f"{AS_OF.isoformat()}T18:00:00Z"):
        key = build(5_000, 50_000)
        with connection.cursor() as cur:  # the busiest organisation by people
            cur.execute(
                "SELECT to_record_id FROM relationships_relationship WHERE type_key = 'works_at' "
                "GROUP BY to_record_id ORDER BY COUNT(*) DESC LIMIT 1"
            )
            org = cur.fetchone()[0]
        deals = list(Record.objects.filter(type_id="deal").values_list("id", flat=True)[:300])
        for d in deals:
            relate(a=d, type_name="deal_for", b=org)
        widgets = [
            {"metric": "deals.won", "chart": "number", "compare": "previous"},
            {"metric": "deals.open", "chart": "number"},
            {"metric": "deals.win_rate", "chart": "line"},
            {"metric": "funnel", "chart": "funnel", "params": {"pipeline": key}},
            {"metric": "funnel", "chart": "table", "params": {"pipeline": key, "by": "source"}},
            {"metric": "deals.won", "scope": org, "chart": "number"},
            {"metric": "interactions.two_way", "scope": org, "chart": "number"},
            {"metric": "people.engaged", "scope": org, "chart": "number"},
        ]
        save_dashboard(key="bench", name="Bench", widgets=widgets)
        out["deals"] = 5_000
        out["changes"] = StageChange.objects.count()
        view = dashboard_view(SYSTEM, "bench", as_of=AS_OF)
        out["errors"] = [w.get("error") for w in view["widgets"] if w.get("error")]
        out["dashboard_s"] = _median(lambda: dashboard_view(SYSTEM, "bench", as_of=AS_OF))

        from kith.records.selectors import home_org

        scope_home = home_org()
        scope_org = Record.objects.get(pk=org)
        assert scope_home is not None

        def widgets_once() -> None:
            first = AS_OF - dt.timedelta(days=89)
            measure(SYSTEM, "deals.won", scope_home, as_of=AS_OF)
            measure(SYSTEM, "deals.open", scope_home, as_of=AS_OF)
            measure(SYSTEM, "deals.win_rate", scope_home, as_of=AS_OF)
            funnel(SYSTEM, pipeline=key, start=first, as_of=AS_OF)
            funnel(SYSTEM, pipeline=key, start=first, as_of=AS_OF, by="source")
            measure(SYSTEM, "deals.won", scope_org, as_of=AS_OF)
            measure(SYSTEM, "interactions.two_way", scope_org, as_of=AS_OF)
            measure(SYSTEM, "people.engaged", scope_org, as_of=AS_OF)

        out["widgets_s"] = _median(widgets_once)
    return out
