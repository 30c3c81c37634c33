"""What a report says about its numbers: measurement-integrity warnings, comparison sentences
against the reference architecture (judged by bootstrap intervals), and the saturation rate of a
sweep."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from harness.results.generator import CPU_SHARE_LIMIT, WARN, is_bound
from harness.results.spread import DASH, Estimate, relative
from harness.results.stats import TOO_FEW
from harness.results.summary import PERCENTILES, Tables, architecture_order

ACHIEVED_FLOOR = 0.95  # an open-loop run must achieve 95% of what it offered
GENERATOR_CPU_CEILING = CPU_SHARE_LIMIT  # one threshold: where a run turns generator-bound
REPEAT_P50_DISAGREEMENT = 0.10
ERROR_RATE_CEILING = 0.01
DEFAULT_SLO = {"operation": "book_e2e", "p99_ms": 500.0}


def integrity_warnings(summary: pd.DataFrame, runs: pd.DataFrame, aggregate: pd.DataFrame) -> list[str]:
    """Conditions under which the numbers do not measure the system they claim to."""
    warnings: list[str] = []
    for run in runs.itertuples(index=False):
        label = f"{run.architecture} r{run.repeat} s{run.step}"
        if run.late_starts > 0:
            warnings.append(
                f"{label}: {int(run.late_starts)} late starts: the generator fell behind its schedule"
            )
        offered, achieved = run.offered_rate, run.achieved_rate
        open_loop = run.model == "open" and offered > 0 and not math.isnan(achieved)
        if open_loop and achieved < ACHIEVED_FLOOR * offered:
            warnings.append(
                f"{label}: achieved {achieved:.1f} req/s of {offered:.1f} offered "
                f"({achieved / offered:.0%} < {ACHIEVED_FLOOR:.0%})"
            )
        # a busy generator makes the run generator-bound: the report warns of it per step
    for row in aggregate.itertuples(index=False):
        label = f"{row.architecture} s{row.step} {row.operation}"
        if row.repeats > 1 and row.p50_ms > 0:
            disagreement = (row.p50_ms_max - row.p50_ms_min) / row.p50_ms
            if disagreement > REPEAT_P50_DISAGREEMENT:
                warnings.append(
                    f"{label}: repeats disagree by {disagreement:.0%} at p50 "
                    f"({row.p50_ms_min:.2f}{DASH}{row.p50_ms_max:.2f} ms, > {REPEAT_P50_DISAGREEMENT:.0%})"
                )
        if row.error_rate_max > ERROR_RATE_CEILING:
            warnings.append(
                f"{label}: error rate up to {row.error_rate_max:.1%} (> {ERROR_RATE_CEILING:.0%})"
            )
    return warnings


def estimate(row: Any, metric: str, tables: Tables | None = None) -> Estimate:
    """A figure of an aggregate (or steps) row with its interval across repeats: the bootstrap one
    from `tables` when there is one, else the row's `_lo`/`_hi` columns, else its min-max range."""
    cell = (row.architecture, int(row.step), getattr(row, "operation", None), metric)
    repeats = int(row.repeats)
    if tables is not None and cell in tables.too_few:
        return Estimate(math.nan, math.nan, math.nan, repeats, reason=TOO_FEW)
    interval = tables.intervals.get(cell) if tables is not None else None
    if interval is not None:
        return Estimate(float(getattr(row, metric)), interval.low, interval.high, repeats,
                        replicates=interval.replicates)
    low, high = (getattr(row, f"{metric}_lo", math.nan), getattr(row, f"{metric}_hi", math.nan))
    if math.isnan(low) or math.isnan(high):
        low, high = getattr(row, f"{metric}_min"), getattr(row, f"{metric}_max")
    return Estimate(float(getattr(row, metric)), float(low), float(high), repeats)


def comparison_sentences(aggregate: pd.DataFrame, step: int, tables: Tables | None = None) -> list[str]:
    """One sentence per operation and non-reference architecture: each percentile with its interval,
    relative to the reference (the monolith when there is one); those the sample is too small for
    are named once, at the end."""
    at_step = aggregate[aggregate["step"] == step]
    architectures = architecture_order(set(at_step["architecture"]))
    if not architectures:
        return []
    reference = architectures[0]
    indexed = {(r.architecture, r.operation): r for r in at_step.itertuples(index=False)}
    bound = {r.architecture for r in at_step.itertuples(index=False) if is_bound(r)}
    sentences = []
    for operation in dict.fromkeys(at_step["operation"]):
        ref_row = indexed.get((reference, operation))
        for architecture in architectures[1:] or [reference]:
            row = indexed.get((architecture, operation))
            if row is None:
                continue
            parts, too_few = [], []
            for metric in PERCENTILES:
                name = percentile_name(metric)
                value = estimate(row, metric, tables)
                if value.too_few:
                    too_few.append(name)
                    continue
                text = f"{name} {value.describe()}"
                if architecture != reference:
                    text += ", " + (
                        relative(value, estimate(ref_row, metric, tables), reference)
                        if ref_row is not None
                        else f"not measured on the {reference}"
                    )
                parts.append(text)
            if too_few:
                parts.append(f"{', '.join(too_few)}: {TOO_FEW} ({row.count:.0f} requests per run)")
            who = "" if len(architectures) == 1 else f" ({architecture})"
            mark = f"{WARN} " if {architecture, reference} & bound else ""  # generator-bound
            sentences.append(f"{mark}{operation}{who} " + "; ".join(parts))
    return sentences


def percentile_name(metric: str) -> str:
    """'p99_ms' -> 'p99', 'p999_ms' -> 'p99.9'."""
    name = metric.removesuffix("_ms")
    return name if len(name) <= 3 else f"{name[:3]}.{name[3:]}"


@dataclass(frozen=True)
class Saturation:
    architecture: str
    rate: float | None  # highest offered rate meeting the SLO, None if none did
    # offered, achieved, p99, met (None: the p99 was withheld, n too small to judge)
    steps: list[tuple[float, float, float, bool | None]]

    @property
    def unjudged(self) -> list[float]:
        return [offered for offered, _, _, met in self.steps if met is None]


def slo_of(scenario: dict[str, Any]) -> dict[str, Any]:
    slo = scenario.get("slo") if isinstance(scenario.get("slo"), dict) else {}
    return {
        "operation": str(slo.get("operation", DEFAULT_SLO["operation"])),
        "p99_ms": float(slo.get("p99_ms", DEFAULT_SLO["p99_ms"])),
    }


def saturation(aggregate: pd.DataFrame, slo: dict[str, Any]) -> list[Saturation]:
    """Per architecture, the highest offered rate whose median p99 of the SLO operation meets the SLO
    while achieving at least 95% of the offered rate. A step whose p99 is empty (withheld: n too
    small) still fails when it fell short of the rate or a lower percentile already exceeds the SLO
    (the p99 can only be higher); otherwise it is not judged."""
    rows = aggregate[(aggregate["operation"] == slo["operation"]) & aggregate["offered_rate"].notna()]
    results = []
    for architecture in architecture_order(set(rows["architecture"])):
        steps = []
        for row in rows[rows["architecture"] == architecture].sort_values("offered_rate").itertuples():
            steps.append((float(row.offered_rate), float(row.achieved_rate), float(row.p99_ms),
                          _meets(row, slo["p99_ms"])))
        passing = [offered for offered, _, _, met in steps if met]
        results.append(Saturation(architecture, max(passing) if passing else None, steps))
    return results


def _meets(row: Any, p99_ms: float) -> bool | None:
    if not row.achieved_rate >= ACHIEVED_FLOOR * row.offered_rate:
        return False
    if not math.isnan(row.p99_ms):
        return bool(row.p99_ms <= p99_ms)
    if any(getattr(row, lower, math.nan) > p99_ms for lower in ("p50_ms", "p90_ms")):
        return False
    return None
