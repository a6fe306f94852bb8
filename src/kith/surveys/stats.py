"""The arithmetic of voice: groups, NPS, CSAT, intervals, trends and projections (pure).

- NPS: promoters (9-10) minus detractors (0-6), in percent of the answers, with the
  normal-approximation interval of a difference of two shares of one multinomial
  (variance ``(p + d - (p - d)^2) / n``).
- CSAT: the share of answers in the top two of the scale, with the Wilson score interval.
- A mean (CES, sentiment) with the normal interval of the mean.
- Trend: the Theil-Sen slope (the median of the pairwise slopes) and the Mann-Kendall test
  (exact for short series without ties, normal with the tie correction otherwise); the next
  periods projected on the Theil-Sen line with a prediction band from its residuals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import combinations
from statistics import NormalDist, median

Z95 = 1.959963984540054
MIN_PERIODS = 3  # periods with enough answers before a line is drawn


def nps_group(score: float) -> str:
    """detractor (0-6), passive (7-8) or promoter (9-10) of a 0-10 answer."""
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


def csat_satisfied(score: float, scale_max: int = 5) -> bool:
    """Whether a CSAT answer is in the top two of its scale (4-5 of five)."""
    return score >= scale_max - 1


@dataclass(frozen=True)
class Estimate:
    value: float | None
    n: int
    low: float | None = None
    high: float | None = None

    def view(self) -> dict[str, float | int | None]:
        r = _round
        return {"value": r(self.value), "n": self.n, "low": r(self.low), "high": r(self.high)}


def _round(x: float | None, places: int = 2) -> float | None:
    return None if x is None else round(x, places)


def nps(promoters: int, detractors: int, n: int) -> Estimate:
    """NPS in percent (-100..100) with its 95 % interval; None with no answers."""
    if n <= 0:
        return Estimate(None, 0)
    p, d = promoters / n, detractors / n
    value = 100.0 * (p - d)
    var = max(p + d - (p - d) ** 2, 0.0) / n
    half = 100.0 * Z95 * math.sqrt(var)
    return Estimate(value, n, max(value - half, -100.0), min(value + half, 100.0))


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a share (0..1)."""
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(centre - half, 0.0), min(centre + half, 1.0))


def share(successes: int, n: int) -> Estimate:
    """A share in percent with its Wilson interval (CSAT % satisfied, response rate)."""
    if n <= 0:
        return Estimate(None, 0)
    low, high = wilson(successes, n)
    return Estimate(100.0 * successes / n, n, 100.0 * low, 100.0 * high)


def mean(total: float, squares: float, n: int) -> Estimate:
    """A mean from its sum and sum of squares, with the normal 95 % interval."""
    if n <= 0:
        return Estimate(None, 0)
    m = total / n
    if n == 1:
        return Estimate(m, 1)
    var = max((squares - n * m * m) / (n - 1), 0.0)
    half = Z95 * math.sqrt(var / n)
    return Estimate(m, n, m - half, m + half)


# -- trends -------------------------------------------------------------------------------


def theil_sen(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """(slope, intercept): the median of pairwise slopes; the line through the medians."""
    slopes = [(ys[j] - ys[i]) / (xs[j] - xs[i]) for i, j in combinations(range(len(xs)), 2)
              if xs[j] != xs[i]]  # fmt: skip
    if not slopes:
        raise ValueError("a trend needs two distinct x values")
    slope = median(slopes)
    return slope, median(ys) - slope * median(xs)


@cache
def _kendall_counts(n: int) -> tuple[int, ...]:
    """How many permutations of ``n`` have each number of inversions (Mahonian numbers)."""
    counts = [1]
    for k in range(2, n + 1):
        new = [0] * (len(counts) + k - 1)
        for i, c in enumerate(counts):
            for j in range(k):
                new[i + j] += c
        counts = new
    return tuple(counts)


def mann_kendall(ys: Sequence[float]) -> tuple[int, float]:
    """(S, two-sided p) of the Mann-Kendall test for a monotonic trend in ``ys``."""
    n = len(ys)
    s = sum((ys[j] > ys[i]) - (ys[j] < ys[i]) for i, j in combinations(range(n), 2))
    if n < 2:
        return 0, 1.0
    ties: dict[float, int] = {}
    for y in ys:
        ties[y] = ties.get(y, 0) + 1
    if n <= 10 and all(t == 1 for t in ties.values()):
        counts = _kendall_counts(n)  # S = pairs - 2 * inversions
        pairs = n * (n - 1) // 2
        total = math.factorial(n)
        extreme = sum(c for inv, c in enumerate(counts) if abs(pairs - 2 * inv) >= abs(s))
        return s, min(1.0, extreme / total)
    var = (n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5) for t in ties.values())) / 18
    if var <= 0:
        return s, 1.0
    z = (s - 1) / math.sqrt(var) if s > 0 else (s + 1) / math.sqrt(var) if s < 0 else 0.0
    return s, min(1.0, 2 * (1 - NormalDist().cdf(abs(z))))


@dataclass(frozen=True)
class Trend:
    slope: float
    intercept: float
    s: int
    p: float
    direction: str  # rising, falling or flat
    projection: list[tuple[float, float]]  # (value, half-width of the 95 % band)


def trend(
    ys: Sequence[float],
    *,
    ahead: int = 2,
    bounds: tuple[float, float] | None = None,
    alpha: float = 0.1,
) -> Trend:
    """The trend of values at x = 0, 1, ...: Theil-Sen line, Mann-Kendall p, projection.

    It is ``rising`` or ``falling`` only when the test says so at ``alpha``; otherwise
    ``flat``. The band is the prediction interval of a line fitted to ``n`` points with the
    residuals' spread (at least 2 degrees of freedom are needed: with 3 points, the spread
    of one residual degree of freedom is used, so the band is wide, as it should be).
    """
    n = len(ys)
    xs = list(range(n))
    slope, intercept = theil_sen(xs, ys)
    s, p = mann_kendall(ys)
    direction = "flat" if p > alpha or slope == 0 else ("rising" if slope > 0 else "falling")
    resid = [y - (intercept + slope * x) for x, y in zip(xs, ys, strict=True)]
    dof = max(n - 2, 1)
    sd = math.sqrt(sum(r * r for r in resid) / dof)
    xbar = (n - 1) / 2
    sxx = sum((x - xbar) ** 2 for x in xs) or 1.0
    out = []
    for k in range(ahead):
        x = n + k
        value = intercept + slope * x
        half = Z95 * sd * math.sqrt(1 + 1 / n + (x - xbar) ** 2 / sxx)
        if bounds is not None:
            value = min(max(value, bounds[0]), bounds[1])
        out.append((value, half))
    return Trend(slope, intercept, s, p, direction, out)
