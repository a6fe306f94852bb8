"""The demo's deals: a year of stage histories whose funnel adds up, and the starters."""

from __future__ import annotations

from typing import Any

from kith.core.viewer import SYSTEM
from kith.pipelines.demo import seed_demo_deals
from kith.pipelines.funnel import funnel
from kith.pipelines.models import Dashboard, StageChange
from kith.testing import make_org, make_person


def test_demo_deals(world: dict[str, Any]) -> None:
    for i in range(12):
        make_person(f"Pat {i}", org=make_org(f"Org {i}"))
    got = seed_demo_deals(world["acme"].id, deals=20, seed=3)
    assert got["deals"] == 20
    firsts = StageChange.objects.filter(pipeline_id="sales", from_stage=None).count()
    assert firsts == 20 and StageChange.objects.filter(pipeline_id="sales").count() > 20
    f = funnel(SYSTEM, pipeline="sales", start="2025-06-15", as_of="2026-06-15")
    assert f["cohort"]["created"] == 20
    for r in f["rows"]:
        assert r["advanced"] + r["lost"] + r["moved_back"] + r["still"] == r["entries"]
    assert sum(r["lost"] for r in f["rows"]) + sum(r["advanced"] for r in f["rows"]) > 0
    assert sorted(Dashboard.objects.values_list("key", flat=True)) == [
        "marketing",
        "sales",
        "support",
    ]
