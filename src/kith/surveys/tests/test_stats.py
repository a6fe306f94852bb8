"""NPS/CSAT arithmetic (property tests), intervals and trends against scipy as the reference."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps
from scipy.stats import binomtest

from kith.surveys import stats

scores = st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=300)


@given(scores)
def test_nps_within_bounds_and_groups_partition_the_answers(answers: list[int]) -> None:
    groups = [stats.nps_group(s) for s in answers]
    prom, det = groups.count("promoter"), groups.count("detractor")
    assert prom + det + groups.count("passive") == len(answers)
    assert all(g in ("promoter", "passive", "detractor") for g in groups)
    est = stats.nps(prom, det, len(answers))
    assert est.value is not None and -100 <= est.value <= 100
    assert est.low is not None and est.high is not None
    assert -100 <= est.low <= est.value <= est.high <= 100
    assert est.value == pytest.approx(100 * (prom - det) / len(answers))


def test_nps_groups_at_their_edges() -> None:
    assert [stats.nps_group(s) for s in (0, 6, 7, 8, 9, 10)] == [
        "detractor",
        "detractor",
        "passive",
        "passive",
        "promoter",
        "promoter",
    ]
    assert [stats.csat_satisfied(s) for s in (1, 2, 3, 4, 5)] == [False, False, False, True, True]
    assert stats.nps(0, 0, 0).value is None


@given(st.integers(min_value=0, max_value=500), st.integers(min_value=1, max_value=500))
def test_wilson_matches_scipy(k: int, extra: int) -> None:
    n = k + extra if k else extra
    k = min(k, n)
    low, high = stats.wilson(k, n)
    ref = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert low == pytest.approx(ref.low, abs=1e-9)
    assert high == pytest.approx(ref.high, abs=1e-9)


def test_nps_interval_matches_a_simulation() -> None:
    """The interval's half-width agrees with the spread of NPS over resampled answers."""
    rng = random.Random(7)
    answers = [10] * 40 + [8] * 30 + [3] * 30
    draws = []
    for _ in range(4000):
        sample = [rng.choice(answers) for _ in answers]
        p = sum(s >= 9 for s in sample) / len(sample)
        d = sum(s <= 6 for s in sample) / len(sample)
        draws.append(100 * (p - d))
    draws.sort()
    est = stats.nps(40, 30, 100)
    assert est.low == pytest.approx(draws[100], abs=2.0)
    assert est.high == pytest.approx(draws[3899], abs=2.0)


@given(st.lists(st.floats(min_value=-1, max_value=1), min_size=2, max_size=50))
def test_mean_interval_matches_scipy_normal(values: list[float]) -> None:
    total, squares = sum(values), sum(v * v for v in values)
    est = stats.mean(total, squares, len(values))
    assert est.value == pytest.approx(sum(values) / len(values), abs=1e-9)
    sem = sps.sem(values) if len(set(values)) > 1 else 0.0
    assert est.high is not None and est.value is not None
    assert est.high - est.value == pytest.approx(1.959963984540054 * sem, abs=1e-6)


@given(st.lists(st.floats(min_value=-100, max_value=100), min_size=2, max_size=12))
def test_theil_sen_matches_scipy(ys: list[float]) -> None:
    xs = list(range(len(ys)))
    slope, intercept = stats.theil_sen(xs, ys)
    ref = sps.theilslopes(ys, xs)
    assert slope == pytest.approx(ref.slope, abs=1e-6)
    assert intercept == pytest.approx(ref.intercept, abs=1e-6)


@given(st.lists(st.integers(min_value=-50, max_value=50), min_size=3, max_size=9, unique=True))
def test_mann_kendall_exact_p_matches_kendall_tau(ys: list[int]) -> None:
    s, p = stats.mann_kendall(ys)
    tau = sps.kendalltau(list(range(len(ys))), ys, method="exact")
    assert s == round(tau.statistic * len(ys) * (len(ys) - 1) / 2)
    assert p == pytest.approx(tau.pvalue, abs=1e-9)


def test_mann_kendall_with_ties_uses_the_normal_approximation() -> None:
    s, p = stats.mann_kendall([1, 2, 2, 3, 4, 4, 5, 6, 7, 8, 9, 9])
    assert s > 0 and p < 0.001


@pytest.mark.parametrize("slope", [-8.0, 0.0, 6.0])
def test_trend_recovers_a_known_slope_through_noise(slope: float) -> None:
    rng = random.Random(int(slope * 10) + 3)
    ys = [20 + slope * x + rng.gauss(0, 2.0) for x in range(8)]
    t = stats.trend(ys)
    assert t.slope == pytest.approx(slope, abs=1.5)
    expected = "flat" if slope == 0 else ("rising" if slope > 0 else "falling")
    assert t.direction == expected
    nxt, band = t.projection[0]
    assert nxt == pytest.approx(20 + slope * 8, abs=5)
    assert 0 < band < 15
    assert t.projection[1][1] > band  # further ahead, wider band


def test_trend_is_flat_for_pure_noise_and_bounded() -> None:
    rng = random.Random(11)
    flat = [rng.gauss(0, 5) for _ in range(8)]
    assert stats.trend(flat).direction == "flat"
    t = stats.trend([60, 80, 95], bounds=(-100, 100))
    assert all(v <= 100 for v, _ in t.projection)
    assert math.isfinite(t.projection[0][1])
