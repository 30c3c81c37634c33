"""A value measured over repeats, with its spread, and how two of them compare.

The spread is the min-max range across repeats ("± x" is half that range); two values differ
significantly only when their ranges do not overlap, and the ratio is then given as the median
ratio with the widest ratio the ranges allow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TIMES = "\N{MULTIPLICATION SIGN}"
DASH = "\N{EN DASH}"


@dataclass(frozen=True)
class Estimate:
    median: float
    low: float
    high: float
    repeats: int

    @property
    def half_range(self) -> float:
        return (self.high - self.low) / 2

    @property
    def known(self) -> bool:
        return not math.isnan(self.median)

    def overlaps(self, other: Estimate) -> bool:
        return self.low <= other.high and other.low <= self.high

    def describe(self, unit: str = "ms") -> str:
        if not self.known:
            return "n/a"
        repeats = f"{self.repeats} repeat{'s' if self.repeats != 1 else ''}"
        spread = f" ± {_num(self.half_range)}" if self.repeats > 1 else ""
        return f"{_num(self.median)} {unit}{spread} ({repeats})".replace("  ", " ")


def ratio_interval(value: Estimate, reference: Estimate) -> tuple[float, float, float]:
    """Median ratio, and the lowest and highest ratio the two min-max ranges allow."""
    ratio = value.median / reference.median
    low = value.low / reference.high if reference.high > 0 else math.inf
    high = value.high / reference.low if reference.low > 0 else math.inf
    return ratio, low, high


def relative(value: Estimate, reference: Estimate, reference_name: str) -> str:
    """'2.6x the monolith (2.3-2.9)', or 'not significant' when the ranges overlap."""
    if not (value.known and reference.known) or reference.median <= 0:
        return f"no comparison with the {reference_name} (missing data)"
    ratio, low, high = ratio_interval(value, reference)
    if min(value.repeats, reference.repeats) < 2:
        return f"{ratio:.2f}{TIMES} the {reference_name} (single repeat: significance unknown)"
    if value.overlaps(reference):
        return f"not significant against the {reference_name} ({_num(reference.median)}; ranges overlap)"
    return f"{ratio:.2f}{TIMES} the {reference_name} ({low:.2f}{DASH}{high:.2f})"


def ratio_cell(value: Estimate, reference: Estimate) -> str:
    """The same judgement in a table cell: '1.12x (1.05-1.20)' or 'not significant (1.02x)'."""
    if not (value.known and reference.known) or reference.median <= 0:
        return "n/a"
    ratio, low, high = ratio_interval(value, reference)
    if min(value.repeats, reference.repeats) < 2:
        return f"{ratio:.2f}{TIMES} (single repeat)"
    if value.overlaps(reference):
        return f"not significant ({ratio:.2f}{TIMES})"
    return f"{ratio:.2f}{TIMES} ({low:.2f}{DASH}{high:.2f})"


def _num(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"
