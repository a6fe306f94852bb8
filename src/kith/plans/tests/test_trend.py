"""Theil–Sen and the projection on series with known slopes; the status thresholds."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from kith.plans.trend import assess, glide, progress, status_of, theil_sen

D0 = dt.date(2026, 1, 1)


@pytest.mark.parametrize("slope", [0.0, 0.02, -0.5, 3.0])
def test_theil_sen_recovers_a_known_slope_despite_outliers(slope: float) -> None:
    rnd = random.Random(7)
    pts = [(D0 + dt.timedelta(days=7 * i), 5 + slope * 7 * i) for i in range(20)]
    pts[3] = (pts[3][0], pts[3][1] + 1000)  # a wild reading
    pts[11] = (pts[11][0], pts[11][1] - 500)
    rnd.shuffle(pts)
    line = theil_sen(pts)
    assert line is not None
    trend, origin = line
    assert trend.slope == pytest.approx(slope, abs=1e-9)
    assert trend.at(origin, D0 + dt.timedelta(days=365)) == pytest.approx(5 + slope * 365)


def test_too_few_readings_have_no_trend() -> None:
    assert theil_sen([]) is None
    assert theil_sen([(D0, 1.0), (D0, 2.0)]) is None


def test_status_thresholds() -> None:
    assert status_of(1.0) == "on track" and status_of(1.4) == "on track"
    assert status_of(0.7) == "at risk" and status_of(0.99) == "at risk"
    assert status_of(0.69) == "off track" and status_of(-1) == "off track"
    assert progress("increase", 3, 10, 8) == pytest.approx(5 / 7)
    assert progress("decrease", 30, 10, 14) == pytest.approx(16 / 20)
    assert progress("maintain", 50, 50, 51) == 1.0
    # a target already passed: on track while the projection stays on its side
    assert status_of(progress("increase", 16, 12, 21)) == "on track"
    assert status_of(progress("increase", 16, 12, 6)) == "off track"
    assert status_of(progress("decrease", 13, 30, 108)) == "off track"
    assert status_of(progress("decrease", 13, 30, 20)) == "on track"
    assert status_of(progress("maintain", 50, 50, 60)) == "off track"


def test_the_sentence_of_the_issue() -> None:
    # 3 on 2026-10-01 rising one a month, read weekly; target 10 by 2027-03-31
    start = dt.date(2026, 10, 1)
    pts = [(start + dt.timedelta(days=d), round(3 + d / 30.44)) for d in range(0, 110, 7)]
    a = assess(
        label="People engaged at Acme",
        direction="increase",
        baseline=3,
        baseline_on=start,
        target=10,
        target_on=dt.date(2027, 3, 31),
        points=[(d, float(v)) for d, v in pts],
        as_of=dt.date(2027, 1, 20),
    )
    assert a.sentence == (
        "People engaged at Acme: 6 (baseline 3 on 2026-10-01, target 10 by 2027-03-31); "
        f"at the current pace (+{a.slope_per_month:.1f} a month) you reach {a.projected:g}: at risk."
    )
    assert a.slope_per_month == pytest.approx(1.0, abs=0.1) and 8 < (a.projected or 0) < 10
    slow = assess(
        label="X",
        direction="increase",
        baseline=3,
        baseline_on=start,
        target=10,
        target_on=dt.date(2027, 3, 31),
        points=[(start, 3.0), (dt.date(2026, 12, 1), 4.0)],
        as_of=dt.date(2026, 12, 1),
    )
    assert slow.status == "off track"
    none = assess(
        label="X",
        direction="increase",
        baseline=None,
        baseline_on=None,
        target=1,
        target_on=D0,
        points=[],
        as_of=D0,
    )
    assert none.status == "unknown" and "not enough readings" in none.sentence


def test_a_milestone_behind_makes_an_on_track_target_at_risk() -> None:
    # 0 on 2026-01-01 rising 1 a month: about 12 by 2027-01-01, past the target of 11 ...
    pts = [(D0 + dt.timedelta(days=7 * i), 7 * i / 30.44) for i in range(10)]
    base = {
        "label": "Refs",
        "direction": "increase",
        "baseline": 0.0,
        "baseline_on": D0,
        "target": 11.0,
        "target_on": dt.date(2027, 1, 1),
        "points": pts,
        "as_of": pts[-1][0],
    }
    assert assess(**base).status == "on track"  # type: ignore[arg-type]
    # ... but a milestone of 9 by 2026-06-30 is far above where the trend is then (about 6)
    a = assess(**base, milestones=[(dt.date(2026, 6, 30), 9.0)])  # type: ignore[arg-type]
    assert a.status == "off track"
    assert "milestone 9 by 2026-06-30: you reach 5.9" in a.sentence
    assert "(glide path 3.15 today)" in a.sentence  # 9 * 63 / 180 days
    # a milestone the trend meets changes nothing
    ok = assess(**base, milestones=[(dt.date(2026, 6, 30), 5.5)])  # type: ignore[arg-type]
    assert ok.status == "on track" and "milestone" not in ok.sentence
    # the glide path: straight lines baseline -> milestones -> target, flat outside
    path = [(dt.date(2026, 7, 1), 9.0)]
    assert glide(0, D0, 12, dt.date(2027, 1, 1), path, dt.date(2025, 6, 1)) == 0
    assert glide(0, D0, 12, dt.date(2027, 1, 1), path, dt.date(2026, 7, 1)) == 9
    assert glide(0, D0, 12, dt.date(2027, 1, 1), path, dt.date(2028, 1, 1)) == 12
    assert glide(0, D0, 12, dt.date(2027, 1, 1), [], dt.date(2026, 7, 2)) == pytest.approx(
        12 * 182 / 365
    )
