"""The funnel from stage history: hand-built cases and invariants over generated histories."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kith.core.viewer import SYSTEM
from kith.pipelines import services
from kith.pipelines.funnel import funnel
from kith.pipelines.models import StageChange
from kith.records.models import Record

KEYS = ["lead", "qualified", "proposal", "won", "lost"]
POS = {k: i for i, k in enumerate(KEYS)}


def _row(f: dict[str, Any], stage: str) -> dict[str, Any]:
    return next(r for r in f["rows"] if r["stage"] == stage)


def test_skips_and_regressions_are_counted_right(world: dict[str, Any]) -> None:
    a = services.add_deal(viewer=SYSTEM, account="Acme", name="A", amount=100, at="2026-05-01")
    services.move(viewer=SYSTEM, ref=a.id, stage="proposal", at="2026-05-03")  # skips qualified
    services.move(viewer=SYSTEM, ref=a.id, stage="qualified", at="2026-05-10")  # back
    services.win(viewer=SYSTEM, ref=a.id, at="2026-05-20")
    b = services.add_deal(viewer=SYSTEM, account="Acme", name="B", amount=50, at="2026-05-02")
    services.lose(viewer=SYSTEM, ref=b.id, reason="competitor", at="2026-05-04")
    c = services.add_deal(viewer=SYSTEM, account="Acme", name="C", amount=10, at="2026-05-05")
    services.move(viewer=SYSTEM, ref=c.id, stage="qualified", at="2026-05-06")
    f = funnel(SYSTEM, start="2026-05-01", end="2026-05-31", as_of="2026-06-01")
    lead = _row(f, "lead")
    assert (lead["entries"], lead["created"], lead["advanced"], lead["skipped"]) == (3, 3, 2, 1)
    assert lead["lost"] == 1 and lead["lost_by_reason"] == {"competitor": 1}
    assert lead["conversion"] == round(2 / 3, 4)
    qual = _row(f, "qualified")  # A came back, C moved in; A won from there, C is still there
    assert (qual["entries"], qual["advanced"], qual["still"], qual["moved_back"]) == (2, 1, 1, 0)
    prop = _row(f, "proposal")
    assert (prop["entries"], prop["moved_back"], prop["median_days"]) == (1, 1, 7.0)
    assert f["cohort"] == {"created": 3, "open": 1, "won": 1, "lost": 1}
    assert f["overall_conversion"] == round(1 / 3, 4)
    by_amount = funnel(SYSTEM, start="2026-05-01", end="2026-05-31", as_of="2026-06-01", value=True)
    assert _row(by_amount, "lead")["entries"] == 160.0
    assert by_amount["cohort"]["won"] == 100.0
    # as of a day inside the window: later moves are not known yet
    early = funnel(SYSTEM, start="2026-05-01", end="2026-05-04", as_of="2026-05-04")
    assert _row(early, "proposal")["still"] == 1 and _row(early, "proposal")["moved_back"] == 0


def test_as_of_answers_do_not_change_with_later_moves(
    world: dict[str, Any], time_travel: Any
) -> None:
    time_travel.to("2026-05-10T12:00Z")
    d = services.add_deal(viewer=SYSTEM, account="Acme", name="A", amount=1, at="2026-05-01")
    services.move(viewer=SYSTEM, ref=d.id, stage="qualified", at="2026-05-05")
    before = funnel(SYSTEM, start="2026-05-01", end="2026-05-10", as_of="2026-05-10")
    time_travel.to("2026-06-15T12:00Z")
    services.lose(viewer=SYSTEM, ref=d.id, reason="price")
    services.add_deal(viewer=SYSTEM, account="Acme", name="B", amount=1)
    assert funnel(SYSTEM, start="2026-05-01", end="2026-05-10", as_of="2026-05-10") == before
    assert _row(before, "qualified")["still"] == 1


def _oracle(
    histories: list[list[tuple[dt.datetime, str]]],
    first: dt.datetime,
    end: dt.datetime,
    as_of_end: dt.datetime,
) -> dict[str, dict[str, int]]:
    """The funnel's definition, record by record in Python."""
    out = {k: {"entries": 0, "advanced": 0, "lost": 0, "moved_back": 0, "still": 0} for k in KEYS}
    for moves in histories:
        known = [m for m in moves if m[0] < as_of_end]
        for i, (at, stage) in enumerate(known):
            if not first <= at < end:
                continue
            cell = out[stage]
            cell["entries"] += 1
            if i + 1 == len(known):
                cell["still"] += 1
                continue
            nxt = known[i + 1][1]
            if nxt == "lost" and stage != "lost":
                cell["lost"] += 1
            elif POS[nxt] > POS[stage]:
                cell["advanced"] += 1
            else:
                cell["moved_back"] += 1
    return out


counter = itertools.count()
history = st.lists(
    st.tuples(
        st.integers(0, 40),
        st.lists(st.tuples(st.integers(0, 6), st.sampled_from(KEYS)), max_size=6),
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    deals=history,
    window=st.tuples(st.integers(0, 50), st.integers(0, 50)),
    as_of=st.integers(0, 60),
)
def test_funnel_invariants_over_generated_histories(
    world: dict[str, Any], deals: list[Any], window: tuple[int, int], as_of: int
) -> None:
    n = next(counter)
    key = f"gen{n}"
    services.add_pipeline(
        type_key="deal",
        key=key,
        stages=[(k, 0.5, "open" if k not in ("won", "lost") else k) for k in KEYS],
    )
    base = dt.datetime(2026, 4, 1, 9, tzinfo=dt.UTC)
    histories: list[list[tuple[dt.datetime, str]]] = []
    for j, (start, moves) in enumerate(deals):
        at = base + dt.timedelta(days=start)
        rec = services.add_deal(
            viewer=SYSTEM, account="Acme", name=f"g{n}-{j}", amount=j + 1, pipeline=key, at=at
        )
        hist = [(at, "lead")]
        for gap, stage in moves:
            if stage == hist[-1][1]:
                continue
            at = at + dt.timedelta(days=gap, minutes=1)
            services.move(viewer=SYSTEM, ref=rec.id, stage=stage, reason="price", at=at)
            hist.append((at, stage))
        histories.append(hist)
    lo, hi = sorted(window)
    first_day = (base + dt.timedelta(days=lo)).date()
    last_day = (base + dt.timedelta(days=hi)).date()
    as_of_day = max(last_day, (base + dt.timedelta(days=as_of)).date())
    f = funnel(SYSTEM, pipeline=key, start=first_day, end=last_day, as_of=as_of_day)
    expected = _oracle(
        histories,
        dt.datetime.combine(first_day, dt.time(), tzinfo=dt.UTC),
        dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC),
        dt.datetime.combine(as_of_day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC),
    )
    for row in f["rows"]:
        parts = row["advanced"] + row["lost"] + row["moved_back"] + row["still"]
        assert parts == row["entries"], row
        assert sum(row["lost_by_reason"].values()) == row["lost"]
        got = {k: row[k] for k in ("entries", "advanced", "lost", "moved_back", "still")}
        assert got == expected[row["stage"]], (row["stage"], got, expected[row["stage"]])
    created = sum(
        1
        for h in histories
        if dt.datetime.combine(first_day, dt.time(), tzinfo=dt.UTC)
        <= h[0][0]
        < dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    )
    assert f["cohort"]["created"] == created
    assert f["cohort"]["open"] + f["cohort"]["won"] + f["cohort"]["lost"] == created
    total_moves = StageChange.objects.filter(
        pipeline_id=key,
        at__gte=dt.datetime.combine(first_day, dt.time(), tzinfo=dt.UTC),
        at__lt=dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC),
    ).count()
    assert sum(r["entries"] for r in f["rows"]) == total_moves
    assert Record.objects.filter(type_id="deal", name__startswith=f"g{n}-").count() == len(deals)
