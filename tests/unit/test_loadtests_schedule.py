"""The open-loop arrival schedule: fixed before the run from the seed, never from responses."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest

from loadtests.schedule import arrival_offsets, arrival_schedule

WEIGHTS = {"search_availability": 50, "book": 30, "cancel": 20, "list_hotels": 0}


def test_poisson_gaps_average_one_over_the_rate() -> None:
    offsets = arrival_offsets(rate=50.0, duration_s=200.0, arrival="poisson", seed=7)
    gaps = [b - a for a, b in zip([0.0, *offsets], offsets, strict=False)]
    assert len(gaps) > 9_000
    assert statistics.fmean(gaps) == pytest.approx(1 / 50, rel=0.03)
    assert statistics.stdev(gaps) == pytest.approx(1 / 50, rel=0.05)  # exponential: sd equals the mean


def test_fixed_arrivals_are_exactly_one_over_the_rate_apart() -> None:
    offsets = arrival_offsets(rate=20.0, duration_s=3.0, arrival="fixed", seed=0)
    assert offsets == [k / 20.0 for k in range(60)]


def test_every_arrival_falls_inside_the_run() -> None:
    for arrival in ("poisson", "fixed"):
        offsets = arrival_offsets(rate=100.0, duration_s=2.0, arrival=arrival, seed=3)
        assert offsets == sorted(offsets) and offsets[0] >= 0 and offsets[-1] < 2.0


def test_the_same_seed_gives_the_same_schedule_and_another_seed_does_not() -> None:
    first = arrival_schedule(30.0, 10.0, "poisson", WEIGHTS, seed=1)
    assert first == arrival_schedule(30.0, 10.0, "poisson", WEIGHTS, seed=1)
    assert first != arrival_schedule(30.0, 10.0, "poisson", WEIGHTS, seed=2)


def test_operations_follow_the_weights_and_never_pick_a_zero_weight() -> None:
    schedule = arrival_schedule(1000.0, 10.0, "fixed", WEIGHTS, seed=0)
    counts = Counter(a.operation for a in schedule)
    assert set(counts) == {"search_availability", "book", "cancel"}
    assert counts["search_availability"] / len(schedule) == pytest.approx(0.5, abs=0.02)
    assert counts["cancel"] / len(schedule) == pytest.approx(0.2, abs=0.02)


def test_a_non_positive_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="rate"):
        arrival_offsets(0.0, 1.0, "poisson", 0)
