"""Latency specs parse into distributions whose seeded samples have the promised mean."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from apps.payment_provider.latency import (
    ExponentialLatency,
    FixedLatency,
    LatencyModel,
    LatencySpecError,
    LognormalLatency,
    NoLatency,
    parse_latency_spec,
)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("none", NoLatency()),
        ("NONE", NoLatency()),
        ("fixed:0.005", FixedLatency(0.005)),
        ("fixed:0", FixedLatency(0.0)),
        (" fixed:2 ", FixedLatency(2.0)),
        ("exponential:0.01", ExponentialLatency(0.01)),
        ("lognormal:0.005,0.5", LognormalLatency(0.005, 0.5)),
        ("lognormal:0.005, 0", LognormalLatency(0.005, 0.0)),
    ],
)
def test_valid_specs_parse_into_their_distribution(spec: str, expected: object) -> None:
    assert parse_latency_spec(spec) == expected


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "fixed",
        "fixed:",
        "fixed:abc",
        "fixed:-1",
        "fixed:nan",
        "fixed:inf",
        "fixed:1,2",
        "exponential:0",
        "exponential:-0.1",
        "lognormal:0.005",
        "lognormal:0,0.5",
        "lognormal:0.005,-1",
        "lognormal:0.005,0.5,1",
        "uniform:0.1",
        "none:1",
    ],
)
def test_invalid_specs_are_rejected_with_the_accepted_forms(spec: str) -> None:
    with pytest.raises(LatencySpecError, match="expected one of: fixed:SECONDS"):
        parse_latency_spec(spec)


@pytest.mark.parametrize("spec", ["none", "fixed:0.25", "exponential:0.01", "lognormal:0.005,0.5"])
def test_a_distribution_spec_parses_back_to_itself(spec: str) -> None:
    distribution = parse_latency_spec(spec)
    assert parse_latency_spec(distribution.spec()) == distribution


def _samples(spec: str, n: int = 20_000, seed: int = 42) -> list[float]:
    distribution = parse_latency_spec(spec)
    rng = random.Random(seed)
    return [distribution.sample(rng) for _ in range(n)]


def test_fixed_latency_always_returns_its_value() -> None:
    assert set(_samples("fixed:0.2", n=100)) == {0.2}


def test_no_latency_returns_zero() -> None:
    assert set(_samples("none", n=100)) == {0.0}


def test_exponential_samples_have_the_requested_mean() -> None:
    samples = _samples("exponential:0.01")
    assert min(samples) >= 0
    assert statistics.fmean(samples) == pytest.approx(0.01, rel=0.05)
    # exponential: the median is mean * ln 2, which a fixed or uniform sampler would miss
    assert statistics.median(samples) == pytest.approx(0.01 * math.log(2), rel=0.06)


def test_lognormal_samples_have_the_requested_median_and_mean() -> None:
    samples = _samples("lognormal:0.005,0.5")
    assert statistics.median(samples) == pytest.approx(0.005, rel=0.05)
    expected_mean = 0.005 * math.exp(0.5**2 / 2)
    assert LognormalLatency(0.005, 0.5).mean == pytest.approx(expected_mean)
    assert statistics.fmean(samples) == pytest.approx(expected_mean, rel=0.05)


def test_the_same_seed_draws_the_same_latencies() -> None:
    assert _samples("exponential:0.01", n=50, seed=3) == _samples("exponential:0.01", n=50, seed=3)
    assert _samples("exponential:0.01", n=50, seed=3) != _samples("exponential:0.01", n=50, seed=4)


def test_a_latency_model_switches_distribution_at_run_time() -> None:
    model = LatencyModel(FixedLatency(0.5), random.Random(1))
    assert model.sample() == 0.5
    model.change(NoLatency())
    assert model.sample() == 0.0
    assert model.distribution == NoLatency()
