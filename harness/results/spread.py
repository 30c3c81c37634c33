"""A value measured over repeats, with its confidence interval, and how two of them compare.

A figure is the median over repeats; its interval is the 95% bootstrap interval of harness.results.stats
(within each run and across repeats), written `12.3 ms [11.9-12.8]`. Two figures differ significantly
only when the bootstrap interval of their ratio excludes 1; the ratio is then given with that interval.
A figure without bootstrap replicates (a run whose histogram was unreadable) falls back on the widest
ratio its interval's ends allow. One repeat says nothing of run-to-run variation, so it is never called
significant; a percentile the sample is too small for is "n too small" and is not compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from harness.results.stats import CONFIDENCE, TOO_FEW, Interval, differs
from harness.results.stats import ratio_interval as bootstrap_ratio

TIMES = "\N{MULTIPLICATION SIGN}"
DASH = "\N{EN DASH}"


@dataclass(frozen=True)
class Estimate:
    median: float
    low: float
    high: float
    repeats: int
    replicates: np.ndarray | None = field(default=None, repr=False, compare=False)
    reason: str = ""  # why there is no figure, e.g. stats.TOO_FEW

    @property
    def half_range(self) -> float:
        return (self.high - self.low) / 2

    @property
    def known(self) -> bool:
        return not math.isnan(self.median)

    @property
    def too_few(self) -> bool:
        return self.reason == TOO_FEW

    def overlaps(self, other: Estimate) -> bool:
        return self.low <= other.high and other.low <= self.high

    def bracket(self) -> str:
        """' [11.9-12.8]', or nothing when there is no interval (or only a point)."""
        if math.isnan(self.low) or math.isnan(self.high) or self.low == self.high:
            return ""
        return f" [{_num(self.low)}{DASH}{_num(self.high)}]"

    def figure(self, unit: str = "") -> str:
        """'12.3 ms [11.9-12.8]' (unit 'ms'), or why there is no figure ('n too small')."""
        if not self.known:
            return self.reason or "n/a"
        return f"{_num(self.median)}{f' {unit}' if unit else ''}{self.bracket()}"

    def describe(self, unit: str = "ms") -> str:
        """The figure with its interval and the number of repeats behind it."""
        if not self.known:
            return self.reason or "n/a"
        repeats = f"{self.repeats} repeat{'s' if self.repeats != 1 else ''}"
        return f"{self.figure(unit)} ({repeats})"


@dataclass(frozen=True)
class Comparison:
    """value / reference: the ratio with its interval, and the verdict."""

    verdict: str  # "differs", "not significant", "single repeat", TOO_FEW or "missing"
    ratio: Interval | None = None

    @property
    def significant(self) -> bool:
        return self.verdict == "differs"

    def ratio_text(self, of: str = "") -> str:
        """'2.50x [2.35-2.66]', or with `of` '2.50x the monolith [2.35-2.66]'."""
        if self.ratio is None:
            return ""
        low, high = self.ratio.low, self.ratio.high
        bracket = "" if math.isnan(low) or math.isnan(high) else f" [{low:.2f}{DASH}{high:.2f}]"
        return f"{self.ratio.point:.2f}{TIMES}{f' the {of}' if of else ''}{bracket}"


def ratio_interval(value: Estimate, reference: Estimate, confidence: float = CONFIDENCE) -> Interval:
    """value / reference: the bootstrap interval of the ratio when both sides have replicates, else
    the lowest and highest ratio their intervals' ends allow."""
    if value.replicates is not None and reference.replicates is not None:
        return bootstrap_ratio(_interval(value), _interval(reference), confidence)
    ratio = value.median / reference.median
    low = value.low / reference.high if reference.high > 0 else math.inf
    high = value.high / reference.low if reference.low > 0 else math.inf
    return Interval(ratio, low, high, np.array([ratio]))


def compare(value: Estimate, reference: Estimate, min_effect: float = 0.0) -> Comparison:
    """The verdict on value against reference, with the ratio whenever both are known."""
    if value.too_few or reference.too_few:
        return Comparison(TOO_FEW)
    if not (value.known and reference.known) or reference.median <= 0:
        return Comparison("missing")
    ratio = ratio_interval(value, reference)
    if min(value.repeats, reference.repeats) < 2:
        return Comparison("single repeat", ratio)
    return Comparison("differs" if differs(ratio, min_effect) else "not significant", ratio)


def relative(value: Estimate, reference: Estimate, reference_name: str) -> str:
    """'2.6x the monolith [2.3-2.9]', or 'not significant against the monolith (1.02x [0.95-1.09])'."""
    comparison = compare(value, reference)
    if comparison.verdict == "missing":
        return f"no comparison with the {reference_name} (missing data)"
    if comparison.verdict == TOO_FEW:
        return f"{TOO_FEW} to compare with the {reference_name}"
    if comparison.verdict == "single repeat":
        ratio = comparison.ratio.point
        return f"{ratio:.2f}{TIMES} the {reference_name} (single repeat: significance unknown)"
    if comparison.verdict == "not significant":
        return f"not significant against the {reference_name} ({comparison.ratio_text()})"
    return comparison.ratio_text(reference_name)


def ratio_cell(value: Estimate, reference: Estimate) -> str:
    """The same judgement in a table cell: '1.12x [1.05-1.20]' or 'not significant (1.02x [0.95-1.09])'."""
    comparison = compare(value, reference)
    if comparison.verdict == "missing":
        return "n/a"
    if comparison.verdict == TOO_FEW:
        return TOO_FEW
    if comparison.verdict == "single repeat":
        return f"{comparison.ratio.point:.2f}{TIMES} (single repeat)"
    if comparison.verdict == "not significant":
        return f"not significant ({comparison.ratio_text()})"
    return comparison.ratio_text()


def _interval(estimate: Estimate) -> Interval:
    assert estimate.replicates is not None
    return Interval(estimate.median, estimate.low, estimate.high, estimate.replicates)


def _num(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"
