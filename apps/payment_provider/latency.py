"""Latency distributions of the simulated provider, and the parser of their text specs."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Protocol

SPEC_FORMS = "fixed:SECONDS | exponential:MEAN_SECONDS | lognormal:MEDIAN_SECONDS,SIGMA | none"


class LatencySpecError(ValueError):
    """A latency spec that cannot be parsed; the message says which forms are accepted."""


class LatencyDistribution(Protocol):
    @property
    def mean(self) -> float: ...

    def sample(self, rng: random.Random) -> float: ...

    def spec(self) -> str: ...


@dataclass(frozen=True)
class NoLatency:
    @property
    def mean(self) -> float:
        return 0.0

    def sample(self, rng: random.Random) -> float:
        return 0.0

    def spec(self) -> str:
        return "none"


@dataclass(frozen=True)
class FixedLatency:
    seconds: float

    @property
    def mean(self) -> float:
        return self.seconds

    def sample(self, rng: random.Random) -> float:
        return self.seconds

    def spec(self) -> str:
        return f"fixed:{self.seconds!r}"


@dataclass(frozen=True)
class ExponentialLatency:
    mean_seconds: float

    @property
    def mean(self) -> float:
        return self.mean_seconds

    def sample(self, rng: random.Random) -> float:
        return rng.expovariate(1.0 / self.mean_seconds)

    def spec(self) -> str:
        return f"exponential:{self.mean_seconds!r}"


@dataclass(frozen=True)
class LognormalLatency:
    median_seconds: float
    sigma: float

    @property
    def mean(self) -> float:
        return self.median_seconds * math.exp(self.sigma**2 / 2)

    def sample(self, rng: random.Random) -> float:
        return rng.lognormvariate(math.log(self.median_seconds), self.sigma)

    def spec(self) -> str:
        return f"lognormal:{self.median_seconds!r},{self.sigma!r}"


DEFAULT_LATENCY_SPEC = "fixed:0.005"


def parse_latency_spec(text: str) -> LatencyDistribution:
    """Parse `fixed:S`, `exponential:MEAN`, `lognormal:MEDIAN,SIGMA` or `none` (seconds)."""
    if not isinstance(text, str):
        raise LatencySpecError(f"latency spec must be a string, one of: {SPEC_FORMS}")
    spec = text.strip().lower()
    if spec == "none":
        return NoLatency()
    kind, sep, args = spec.partition(":")
    if not sep:
        raise LatencySpecError(f"bad latency spec {text!r}; expected one of: {SPEC_FORMS}")
    values = [_number(text, part) for part in args.split(",")]
    if kind == "fixed":
        (seconds,) = _arity(text, values, 1)
        _require(text, seconds >= 0, "SECONDS must be >= 0")
        return FixedLatency(seconds)
    if kind == "exponential":
        (mean,) = _arity(text, values, 1)
        _require(text, mean > 0, "MEAN_SECONDS must be > 0")
        return ExponentialLatency(mean)
    if kind == "lognormal":
        median, sigma = _arity(text, values, 2)
        _require(text, median > 0, "MEDIAN_SECONDS must be > 0")
        _require(text, sigma >= 0, "SIGMA must be >= 0")
        return LognormalLatency(median, sigma)
    raise LatencySpecError(
        f"bad latency spec {text!r}: unknown kind {kind!r}; expected one of: {SPEC_FORMS}"
    )


def _number(text: str, part: str) -> float:
    try:
        value = float(part)
    except ValueError:
        raise LatencySpecError(
            f"bad latency spec {text!r}: {part.strip()!r} is not a number; "
            f"expected one of: {SPEC_FORMS}"
        ) from None
    _require(text, math.isfinite(value), f"{part.strip()!r} is not a finite number")
    return value


def _arity(text: str, values: list[float], expected: int) -> list[float]:
    _require(text, len(values) == expected, f"expected {expected} number(s), got {len(values)}")
    return values


def _require(text: str, condition: bool, why: str) -> None:
    if not condition:
        raise LatencySpecError(f"bad latency spec {text!r}: {why}; expected one of: {SPEC_FORMS}")


class LatencyModel:
    """The provider's current latency distribution, sampled from one seeded generator.

    The distribution can be swapped at run time (fault injection) without reseeding.
    """

    def __init__(self, distribution: LatencyDistribution, rng: random.Random) -> None:
        self._distribution = distribution
        self._rng = rng

    @property
    def distribution(self) -> LatencyDistribution:
        return self._distribution

    def change(self, distribution: LatencyDistribution) -> None:
        self._distribution = distribution

    def sample(self) -> float:
        return self._distribution.sample(self._rng)
