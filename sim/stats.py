"""Confidence intervals over independent replications (Student t, 95% two-sided)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean, stdev

# two-sided 95% Student t quantiles t(0.975, df) for df = 1..60
_T975 = (
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
    2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
    2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
    2.0395, 2.0369, 2.0345, 2.0322, 2.0301, 2.0281, 2.0262, 2.0244, 2.0227, 2.0211,
    2.0195, 2.0181, 2.0167, 2.0154, 2.0141, 2.0129, 2.0117, 2.0106, 2.0096, 2.0086,
    2.0076, 2.0066, 2.0057, 2.0049, 2.0040, 2.0032, 2.0025, 2.0017, 2.0010, 2.0003,
)
_Z975 = 1.959963984540054


def t_quantile_975(df: int) -> float:
    """The 0.975 quantile of Student's t with `df` degrees of freedom (a 95% two-sided interval).

    Tabulated up to 60; beyond, the Cornish-Fisher expansion in 1/df (Abramowitz and Stegun 26.7.5),
    within 1e-9 of the exact value there.
    """
    if df < 1:
        raise ValueError("need at least one degree of freedom")
    if df <= len(_T975):
        return _T975[df - 1]
    z = _Z975
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
        + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * df**4)
    )


@dataclass(frozen=True)
class Estimate:
    """A mean over `n` independent replications with the half-width of its 95% confidence interval."""

    mean: float
    half_width: float
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def estimate(samples: Sequence[float]) -> Estimate:
    """Mean and Student-t 95% half-width of independent replication results."""
    if len(samples) < 2:
        raise ValueError("a confidence interval needs at least two replications")
    n = len(samples)
    return Estimate(fmean(samples), t_quantile_975(n - 1) * stdev(samples) / math.sqrt(n), n)


def mean_ci(values: Sequence[float]) -> tuple[float, float]:
    """Mean and 95% half-width, ignoring NaN; the half-width is NaN with fewer than two values."""
    clean = [v for v in values if not math.isnan(v)]
    if not clean:
        return math.nan, math.nan
    if len(clean) < 2:
        return clean[0], math.nan
    found = estimate(clean)
    return found.mean, found.half_width
