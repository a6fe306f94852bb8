"""Reads never write, and list reads cost the same number of queries for 3 deals as for 12."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from kith.core.viewer import SYSTEM
from kith.pipelines import selectors, services
from kith.pipelines.dashboards import dashboard_view
from kith.pipelines.funnel import funnel


def _deals(n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        d = services.add_deal(viewer=SYSTEM, account="Acme", name=f"D{i}", amount=i + 1, at="2026-06-01",
                              owner="mia@our.test", contacts=[("Lee Park", "champion")])  # fmt: skip
        services.move(viewer=SYSTEM, ref=d.id, stage="qualified", at="2026-06-02")


def _count(fn: Any) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]


def test_reads_never_write_and_lists_are_not_n_plus_one(world: dict[str, Any]) -> None:
    services.save_dashboard(key="sales", starter="sales")
    reads = {
        "positions": lambda: selectors.positions(SYSTEM),
        "positions_as_of": lambda: selectors.positions(SYSTEM, as_of="2026-06-10"),
        "board": lambda: selectors.board(SYSTEM),
        "account": lambda: selectors.account_deals(SYSTEM, world["acme"]),
        "funnel": lambda: funnel(SYSTEM, start="2026-05-01", by="source", value=True),
        "dashboard": lambda: dashboard_view(SYSTEM, "sales", as_of="2026-06-15"),
    }
    _deals(3)
    few = {k: _count(fn) for k, fn in reads.items()}
    _deals(9, start=3)
    many = {k: _count(fn) for k, fn in reads.items()}
    for k in reads:
        sqls = few[k][1] + many[k][1]
        assert not [
            s for s in sqls if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        ], k
        assert few[k][0] == many[k][0], (k, few[k][0], many[k][0])
    assert len(selectors.positions(SYSTEM)["rows"]) == 12
    assert selectors.deal_view(SYSTEM, "D0")["people"][0]["name"] == "Lee Park"
