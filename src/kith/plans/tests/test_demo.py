"""kith demo makes a plan with goals, readings and stakeholders, so every screen has data."""

from __future__ import annotations

import json
from typing import Any

from kith.core.viewer import SYSTEM
from kith.metrics.selectors import show
from kith.plans.selectors import plan_view, readings
from kith.plans.suggestions import next_conversations


def test_the_demo_has_a_plan(cli: Any, time_travel: Any) -> None:
    code, out, err = cli(
        "demo",
        "--people",
        "200",
        "--orgs",
        "20",
        "--interactions",
        "3000",
        "--relationships",
        "600",
        "--json",
    )
    assert code == 0, err
    loaded = json.loads(out)
    plan_id, anchor = loaded["plan"], loaded["anchor_org"]
    view = plan_view(SYSTEM, plan_id)
    assert len(view["goals"]) == 2 and view["stakeholders"] and view["initiatives"]
    measures = [m for g in view["goals"] for m in g["measures"]]
    assert all(m["readings"] >= 13 for m in measures)  # weekly since a start 90 days ago
    assert all(m["status"] in {"on track", "at risk", "off track"} for m in measures)
    assert len(view["reviews"]) == 1
    got = readings(SYSTEM, measures[0]["id"], recompute=True)
    assert all(r["value"] == r["recomputed"] for r in got["readings"])
    assert next_conversations(SYSTEM)["people"]
    # the demo's meetings at the anchor carry typed outcomes, so the outcome metrics read
    positive = show(SYSTEM, "outcomes", anchor)  # the default 90 days
    assert positive["value"] > 0 and "next step agreed" in positive["reasons"][1]
    assert show(SYSTEM, "outcomes", anchor, window="3y", params={"polarity": "negative"})["value"]
    assert show(SYSTEM, "value.events", anchor, window="3y")["value"] > 0
