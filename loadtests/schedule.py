"""The open-loop arrival schedule: computed up front from the seed, independent of any response."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Arrival:
    offset_s: float  # intended send time, seconds after the load starts
    operation: str


def arrival_offsets(rate: float, duration_s: float, arrival: str, seed: int) -> list[float]:
    """Intended send times in [0, duration_s): Poisson (exponential gaps, mean 1/rate) or fixed 1/rate."""
    if rate <= 0:
        raise ValueError(f"rate must be > 0, got {rate}")
    offsets: list[float] = []
    if arrival == "fixed":
        k = 0
        while k / rate < duration_s:
            offsets.append(k / rate)
            k += 1
        return offsets
    if arrival != "poisson":
        raise ValueError(f"unknown arrival process {arrival!r}")
    rng = random.Random(f"arrivals-{seed}")
    t = rng.expovariate(rate)
    while t < duration_s:
        offsets.append(t)
        t += rng.expovariate(rate)
    return offsets


class OperationChooser:
    """Picks operations by weight from its own seeded stream, so a schedule is reproducible."""

    def __init__(self, weights: Mapping[str, float], rng: random.Random) -> None:
        chosen = [(op, w) for op, w in weights.items() if w > 0]
        self._operations = [op for op, _ in chosen]
        self._weights = [w for _, w in chosen]
        self._rng = rng

    def __call__(self) -> str:
        return self._rng.choices(self._operations, weights=self._weights)[0]


def arrival_schedule(rate: float, duration_s: float, arrival: str, weights: Mapping[str, float],
                     seed: int) -> list[Arrival]:
    """The whole open-loop schedule: when each request is due and which operation it runs."""
    choose = OperationChooser(weights, random.Random(f"operations-{seed}"))
    return [Arrival(offset, choose()) for offset in arrival_offsets(rate, duration_s, arrival, seed)]
