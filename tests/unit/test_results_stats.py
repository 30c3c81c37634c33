"""harness.results.stats: how many values a percentile needs, and bootstrap intervals that cover the
true percentile, narrow as n grows, and judge two architectures different only when they are."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hdrh.histogram import HdrHistogram

from harness.results.stats import (
    Recorded,
    across_repeats,
    differs,
    min_samples,
    percentile,
    percentile_interval,
    percentile_replicates,
    ratio_interval,
    supports,
)

MEDIAN_MS, SIGMA = 10.0, 0.5


def lognormal_ms(seed: int, n: int, median: float = MEDIAN_MS) -> np.ndarray:
    return np.round(np.random.default_rng(seed).lognormal(math.log(median), SIGMA, n), 3)


def true_percentile(q: float, median: float = MEDIAN_MS) -> float:
    z = {0.5: 0.0, 0.9: 1.2815515655446004, 0.99: 2.3263478740408408}[q]
    return median * math.exp(SIGMA * z)


def hdr_of(samples_ms: np.ndarray) -> HdrHistogram:
    histogram = HdrHistogram(1, 60_000_000, 3)
    for value in samples_ms:
        histogram.record_value(round(value * 1000))
    return histogram


def test_a_percentile_needs_ten_values_beyond_it() -> None:
    assert [min_samples(q) for q in (0.5, 0.9, 0.99, 0.999)] == [20, 100, 1_000, 10_000]
    assert supports(1_000, 0.99) and not supports(999, 0.99)
    assert supports(20, 0.5) and not supports(19, 0.5) and not supports(math.nan, 0.5)
    with pytest.raises(ValueError):
        min_samples(99)


def test_no_interval_is_given_from_too_few_values() -> None:
    samples = Recorded.of_samples(lognormal_ms(0, 999))
    assert percentile_interval(samples, 0.99) is None
    assert percentile_interval(samples, 0.9) is not None


@pytest.mark.parametrize(("q", "n"), [(0.5, 200), (0.9, 500), (0.99, 3_000)])
def test_the_95_percent_interval_covers_the_true_percentile_in_most_seeds(q: float, n: int) -> None:
    truth = true_percentile(q)
    covered = sum(
        percentile_interval(Recorded.of_samples(lognormal_ms(seed, n)), q, seed=seed).contains(truth)
        for seed in range(100)
    )
    assert 90 <= covered <= 100, covered


def test_the_interval_of_a_histogram_covers_the_true_percentile_too() -> None:
    truth = true_percentile(0.99) * 1000  # a histogram records µs
    covered = sum(percentile_interval(hdr_of(lognormal_ms(seed, 2_000)), 0.99, seed=seed).contains(truth)
                  for seed in range(40))
    assert covered >= 35, covered


def test_the_interval_narrows_as_n_grows() -> None:
    def width(n: int) -> float:
        intervals = [percentile_interval(Recorded.of_samples(lognormal_ms(seed, n)), 0.9, seed=seed)
                     for seed in range(20)]
        return float(np.mean([i.high - i.low for i in intervals]))

    # about 1 / sqrt(n): four times the values, half the width
    assert 0.35 < width(4_000) / width(1_000) < 0.65


def test_the_point_and_mean_are_hdrhistograms_own() -> None:
    histogram = hdr_of(lognormal_ms(3, 5_000))
    recorded = Recorded.of(histogram)
    assert recorded.n == 5_000
    for q in (0.5, 0.9, 0.99, 0.999):
        assert percentile(recorded, q) == histogram.get_value_at_percentile(q * 100)
    assert recorded.mean() == pytest.approx(histogram.get_mean_value(), rel=1e-12)


def test_the_replicates_are_the_multinomial_bootstrap_of_the_histogram() -> None:
    recorded = Recorded.of(hdr_of(lognormal_ms(4, 400)))
    q, draws = 0.9, 20_000
    fast = percentile_replicates(recorded, q, resamples=draws, seed=1)
    # the textbook bootstrap: resample n values from the buckets, take the same rank
    rng = np.random.default_rng(2)
    resampled = rng.multinomial(recorded.n, recorded.counts / recorded.n, size=draws).cumsum(axis=1)
    rank = int(q * recorded.n + 0.5)
    slow = recorded.values[(resampled < rank).sum(axis=1)]
    levels = [0.025, 0.1, 0.5, 0.9, 0.975]
    assert np.quantile(fast, levels) == pytest.approx(np.quantile(slow, levels), rel=0.01)


def test_a_seed_makes_the_interval_reproducible() -> None:
    recorded = Recorded.of_samples(lognormal_ms(5, 500))
    first = percentile_interval(recorded, 0.9, seed=[1, 2])
    again = percentile_interval(recorded, 0.9, seed=[1, 2])
    other = percentile_interval(recorded, 0.9, seed=[1, 3])
    assert (first.low, first.high) == (again.low, again.high)
    assert np.array_equal(first.replicates, again.replicates)
    assert not np.array_equal(first.replicates, other.replicates)


def _ratio_of(seed: int, median_b: float, n: int = 1_000, q: float = 0.9):
    a = percentile_interval(Recorded.of_samples(lognormal_ms(2 * seed, n)), q, seed=[seed, 0])
    b = percentile_interval(Recorded.of_samples(lognormal_ms(2 * seed + 1, n, median_b)), q, seed=[seed, 1])
    return ratio_interval(b, a)


def test_clearly_different_distributions_differ() -> None:
    ratios = [_ratio_of(seed, MEDIAN_MS * 1.3) for seed in range(50)]
    assert sum(differs(r) for r in ratios) >= 48
    assert all(r.low > 1 for r in ratios if differs(r))
    assert sum(r.contains(1.3) for r in ratios) >= 44


def test_two_samples_of_one_distribution_do_not_differ_in_most_seeds() -> None:
    ratios = [_ratio_of(seed, MEDIAN_MS) for seed in range(100)]
    assert sum(r.contains(1.0) for r in ratios) >= 90
    assert sum(differs(r) for r in ratios) <= 10


def test_a_minimum_effect_keeps_a_small_real_difference_from_counting() -> None:
    ratio = _ratio_of(0, MEDIAN_MS * 1.3, n=20_000)
    assert differs(ratio)
    assert differs(ratio, min_effect=0.2)
    assert not differs(ratio, min_effect=0.5)


def test_across_repeats_the_interval_spans_runs_that_disagree() -> None:
    runs = [Recorded.of_samples(lognormal_ms(seed, 2_000, median)) for seed, median in
            enumerate((9.0, 10.0, 11.0))]
    points = [percentile(r, 0.5) for r in runs]
    within = [percentile_replicates(r, 0.5, seed=[i]) for i, r in enumerate(runs)]
    across = across_repeats(points, within, seed=7)
    assert across.point == pytest.approx(np.median(points))
    # far wider than any run's own interval: the runs disagree by much more than their noise
    assert across.low < 9.8 and across.high > 10.2
    widest_within = max(np.quantile(w, 0.975) - np.quantile(w, 0.025) for w in within)
    assert across.high - across.low > 3 * widest_within
    one = across_repeats(points[:1], within[:1], seed=7)
    assert one.high - one.low == pytest.approx(np.quantile(within[0], 0.975) - np.quantile(within[0], 0.025),
                                               rel=0.15)
