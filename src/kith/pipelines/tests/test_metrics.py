"""Won amount, open pipeline and win rate in the catalogue, as of a day, with reasons."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kith.core.viewer import SYSTEM
from kith.intelligence.selectors import best
from kith.metrics.catalogue import get_metric
from kith.metrics.selectors import measure
from kith.pipelines import services
from kith.testing import log


def _deals(world: dict[str, Any]) -> None:
    a = services.add_deal(viewer=SYSTEM, account="Acme", name="Big", amount=1000, at="2026-04-01")
    services.win(viewer=SYSTEM, ref=a.id, at="2026-05-01")
    b = services.add_deal(viewer=SYSTEM, account="Acme", name="Small", amount=100, at="2026-04-02")
    services.lose(viewer=SYSTEM, ref=b.id, reason="price", at="2026-05-02")
    c = services.add_deal(viewer=SYSTEM, account="Acme", name="Open", amount=400, at="2026-05-03",
                          contacts=[("Lee Park", "champion")])  # fmt: skip
    services.move(viewer=SYSTEM, ref=c.id, stage="proposal", at="2026-05-04")
    other = services.add_deal(
        viewer=SYSTEM, account="Mia Chen", name="Elsewhere", amount=7, at="2026-05-01"
    )
    services.win(viewer=SYSTEM, ref=other.id, at="2026-05-05")


def test_deal_metrics_for_an_account_as_of_a_day(world: dict[str, Any]) -> None:
    _deals(world)
    acme = world["acme"]
    won = measure(SYSTEM, "deals.won", acme, as_of=dt.date(2026, 6, 15), window=90)
    assert won.value == 1000.0 and won.n == 1 and "1 deal won" in won.reasons[0]
    assert len(won.evidence) == 1
    open_ = measure(SYSTEM, "deals.open", acme, as_of=dt.date(2026, 6, 15))
    assert open_.value == 400.0 and "weighted by stage probability 240.00" in open_.reasons[0]
    rate = measure(SYSTEM, "deals.win_rate", acme, as_of=dt.date(2026, 6, 15))
    assert rate.value == 50.0 and rate.reasons == ["1 won of 2 closed in the 90 days to 2026-06-15"]
    # as of a day before the win: nothing won, two open
    early = measure(SYSTEM, "deals.open", acme, as_of=dt.date(2026, 4, 15))
    assert early.value == 1100.0
    assert measure(SYSTEM, "deals.won", acme, as_of=dt.date(2026, 4, 15)).value == 0.0
    assert measure(SYSTEM, "deals.win_rate", acme, as_of=dt.date(2026, 4, 15)).value is None
    # a person counts the deals they are on; the home organisation counts every deal
    assert measure(SYSTEM, "deals.open", world["lee"], as_of=dt.date(2026, 6, 15)).value == 400.0
    assert measure(SYSTEM, "deals.won", world["home"], as_of=dt.date(2026, 6, 15)).value == 1007.0
    assert get_metric("deals.won").view()["unit"] == "amount"


def test_won_revenue_is_the_value_in_best(world: dict[str, Any]) -> None:
    for day in ("2026-05-01", "2026-05-20", "2026-06-01"):
        log("meeting", world["mia"], world["lee"], at=f"{day}T10:00Z")
    before = best(SYSTEM, as_of=dt.date(2026, 6, 15))
    assert {r["value_basis"] for r in before} == {"engagement"}
    d = services.add_deal(viewer=SYSTEM, account="Acme", name="Won", amount=5000, at="2026-05-01",
                          contacts=[("Lee Park", "champion")])  # fmt: skip
    services.win(viewer=SYSTEM, ref=d.id, at="2026-06-01")
    rows = {r["id"]: r for r in best(SYSTEM, as_of=dt.date(2026, 6, 15))}
    assert rows[world["acme"].id]["value"] == 5000.0
    assert rows[world["acme"].id]["value_basis"] == "won revenue"
    assert rows[world["lee"].id]["value"] == 5000.0
    # as of a day before the win, engagement is the value again
    assert {r["value_basis"] for r in best(SYSTEM, as_of=dt.date(2026, 5, 25))} == {"engagement"}
