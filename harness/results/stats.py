"""How sure a percentile is: the sample size it needs, its bootstrap interval within a run and across
repeats, and the interval of the ratio of two architectures' percentiles.

- **Sample size.** A percentile q is printed only from n >= ceil(10 / (1 - q)) values, so that at
  least 10 of them lie beyond it: p50 needs 20, p90 100, p99 1,000, p99.9 10,000.
- **Within a run**: the bootstrap of the recorded distribution at histogram resolution (resampling n
  values from the histogram's buckets, i.e. a multinomial over its counts). It is drawn exactly and
  cheaply: the r-th smallest of n values resampled from the empirical distribution F is
  F^-1(U), where U, the r-th smallest of n uniforms, is Beta(r, n - r + 1); so each replicate is one
  Beta draw looked up in the cumulative counts, whatever n. r is HdrHistogram's own rank for q, and
  each bucket stands for the value HdrHistogram reports for it, so the replicates centre on the
  printed percentile.
- **Across repeats**: a two-stage (hierarchical) bootstrap of the figure the tables print, the median
  over repeats of each run's percentile: each replicate draws the repeats with replacement, then for
  each drawn repeat one of its within-run replicates, and takes their median. It is conservative
  (noise within a run is counted in the spread of the repeats and again in the resampling within
  each; Davison & Hinkley 1997, section 3.8), and with 2-3 repeats it can be no wider than the repeats
  and their own noise show: run-to-run variation is only as well known as the repeats make it.
- **A ratio** of two figures: both sides are bootstrapped independently, and the interval is the
  percentile interval of the ratio of their replicates. Two figures *differ* only when that interval
  excludes 1 (and, if asked, when the ratio is at least a minimum effect away from 1).

Every draw is seeded from the data it resamples and the name of the cell it belongs to, so that a
rebuild gives the same intervals and no two different samples share random numbers. Percentiles are
fractions here (0.99 for p99).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from hdrh.histogram import HdrHistogram

CONFIDENCE = 0.95
RESAMPLES = 1000
SEED = 20_270_105
TOO_FEW = "n too small"


def min_samples(q: float) -> int:
    """The fewest values a q-percentile may be given from: ceil(10 / (1 - q))."""
    if not 0 < q < 1:
        raise ValueError(f"a percentile is a fraction in (0, 1), not {q}")
    # rounded first: 10 / (1 - 0.99) is 1000.0000000000009 in floating point
    return math.ceil(round(10 / (1 - q), 6))


def supports(n: float, q: float) -> bool:
    """Whether n values are enough to give the q-percentile."""
    return not math.isnan(n) and n >= min_samples(q)


@dataclass(frozen=True)
class Interval:
    """A point estimate and its confidence interval, with the bootstrap replicates behind it."""

    point: float
    low: float
    high: float
    replicates: np.ndarray = field(repr=False, compare=False)

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class Recorded:
    """A histogram's recorded distribution: each non-empty bucket's range of values (µs, both ends
    included) and its count. `values` are the buckets' highest values: the ones HdrHistogram
    reports as percentiles."""

    values: np.ndarray
    counts: np.ndarray
    lowest: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    @classmethod
    def of(cls, histogram: HdrHistogram) -> Recorded:
        counts = np.ctypeslib.as_array(histogram.counts)[: histogram.encoder.payload.counts_len]
        index = np.flatnonzero(counts)
        # HdrHistogram's get_value_from_index and get_highest_equivalent_value, on every index at once
        half_magnitude = histogram.sub_bucket_half_count_magnitude
        half_count = histogram.sub_bucket_half_count
        bucket = (index >> half_magnitude) - 1
        sub_bucket = (index & (half_count - 1)) + half_count
        first = bucket < 0
        sub_bucket[first] -= half_count
        bucket[first] = 0
        shift = bucket + histogram.unit_magnitude
        lowest = sub_bucket << shift
        highest = lowest + (np.int64(1) << shift) - 1
        return cls(highest.astype(float), counts[index].astype(np.int64), lowest.astype(float))

    @classmethod
    def of_samples(cls, samples: Sequence[float] | np.ndarray) -> Recorded:
        values, counts = np.unique(np.asarray(samples, dtype=float), return_counts=True)
        return cls(values, counts.astype(np.int64), values)

    def mean(self) -> float:
        """HdrHistogram's mean: each bucket counted at the middle of its range."""
        if not self.n:
            return 0.0
        lowest = self.values if self.lowest is None else self.lowest
        middles = np.floor((lowest + self.values + 1) / 2)
        return float((middles * self.counts).sum() / self.n)

    def fingerprint(self) -> int:
        return zlib.crc32(self.values.tobytes() + self.counts.tobytes())


def rank(n: int, q: float) -> int:
    """HdrHistogram's rank of the q-percentile among n values (1-based)."""
    return max(1, int(round(q * 100, 9) * n / 100 + 0.5))


def percentile(recorded: Recorded, q: float) -> float:
    """The q-percentile as HdrHistogram gives it (the same value, without its Python loop)."""
    if recorded.n == 0:
        return math.nan
    index = np.searchsorted(np.cumsum(recorded.counts), rank(recorded.n, q), side="left")
    return float(recorded.values[index])


def seed_for(*parts: object) -> list[int]:
    """A seed from names and numbers, stable across processes (unlike hash() of a string)."""
    return [SEED, *(p if isinstance(p, int) and p >= 0 else zlib.crc32(str(p).encode()) for p in parts)]


def percentile_replicates(recorded: Recorded, q: float, resamples: int = RESAMPLES,
                          seed: Sequence[int] | int = SEED) -> np.ndarray:
    """`resamples` bootstrap replicates of the q-percentile (whatever n: check `supports` first)."""
    n = recorded.n
    if n == 0:
        return np.full(resamples, math.nan)
    r = rank(n, q)
    rng = np.random.default_rng(seed)
    uniforms = rng.beta(r, n - r + 1, size=resamples)
    cumulative = np.cumsum(recorded.counts) / n
    index = np.minimum(np.searchsorted(cumulative, uniforms, side="left"), len(recorded.values) - 1)
    return recorded.values[index]


def interval_of(point: float, replicates: np.ndarray, confidence: float = CONFIDENCE) -> Interval:
    tail = (1 - confidence) / 2
    low, high = np.quantile(replicates, [tail, 1 - tail])
    return Interval(float(point), float(low), float(high), replicates)


def percentile_interval(recorded: Recorded | HdrHistogram, q: float, confidence: float = CONFIDENCE,
                        resamples: int = RESAMPLES, seed: Sequence[int] | int = SEED) -> Interval | None:
    """The q-percentile of one run with its bootstrap interval; None when n does not support it."""
    if isinstance(recorded, HdrHistogram):
        recorded = Recorded.of(recorded)
    if not supports(recorded.n, q):
        return None
    replicates = percentile_replicates(recorded, q, resamples, seed)
    return interval_of(percentile(recorded, q), replicates, confidence)


def across_repeats(points: Sequence[float], replicates: Sequence[np.ndarray],
                   confidence: float = CONFIDENCE, seed: Sequence[int] | int = SEED) -> Interval:
    """The median over repeats of a per-run figure, with a two-stage bootstrap interval: repeats
    drawn with replacement, then one within-run replicate of each drawn repeat."""
    per_run = np.vstack(replicates)  # repeats x resamples
    repeats, resamples = per_run.shape
    rng = np.random.default_rng(seed)
    runs = rng.integers(repeats, size=(resamples, repeats))
    draws = rng.integers(resamples, size=(resamples, repeats))
    medians = np.median(per_run[runs, draws], axis=1)
    return interval_of(float(np.median(points)), medians, confidence)


def repeats_interval(values: Sequence[float], confidence: float = CONFIDENCE, resamples: int = RESAMPLES,
                     seed: Sequence[int] | int = SEED) -> Interval:
    """The median of a figure measured once per repeat (no sampling within a run to resample), with
    the bootstrap over repeats; with 2 repeats it spans their min-max range."""
    array = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    medians = np.median(array[rng.integers(len(array), size=(resamples, len(array)))], axis=1)
    return interval_of(float(np.median(array)), medians, confidence)


def ratio_interval(value: Interval, reference: Interval, confidence: float = CONFIDENCE) -> Interval:
    """value / reference with the percentile interval of the ratio of their replicates. The reference's
    replicates are shuffled first: the pairing of independent draws is arbitrary, and shuffling keeps
    two identical samples (drawn from the same seed) from giving a ratio of exactly 1 every time."""
    shuffled = np.random.default_rng(SEED).permutation(reference.replicates)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = value.replicates / shuffled
        point = value.point / reference.point if reference.point else math.inf
    return interval_of(point, ratios[np.isfinite(ratios)] if np.isfinite(ratios).any() else ratios,
                       confidence)


def differs(ratio: Interval, min_effect: float = 0.0) -> bool:
    """Significant: the ratio's interval excludes 1, and the ratio is at least min_effect away from 1
    (either way: 1.25 and 0.8 are both 25% apart)."""
    if math.isnan(ratio.low) or math.isnan(ratio.high) or not ratio.point > 0:
        return False
    apart = max(ratio.point, 1 / ratio.point) - 1
    return (ratio.low > 1 or ratio.high < 1) and apart >= min_effect
