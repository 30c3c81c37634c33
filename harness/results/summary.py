"""The numbers of a report: one row per run and operation (summary), per-run efficiency and
overhead, and the aggregate across repeats with its min-max spread and, for each percentile, its
bootstrap interval (harness.results.stats); a percentile the sample is too small for is withheld."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from hdrh.histogram import HdrHistogram

from harness.config.architectures import names
from harness.results.generator import GENERATOR_COLUMNS, generator_columns, generator_per_step
from harness.results.rundir import Run, RunFolder
from harness.results.stats import (
    Interval,
    Recorded,
    across_repeats,
    interval_of,
    percentile,
    percentile_replicates,
    repeats_interval,
    seed_for,
    supports,
)

OPERATIONS = [
    "search_availability", "list_hotels", "book", "book_e2e", "view_booking", "list_customer_bookings",
    "cancel",
]
# book_e2e is the client's view of a `book` request, not a request of its own
NOT_A_REQUEST = {"book_e2e"}
GENERATOR = "generator"

PERCENTILES = {"p50_ms": 0.50, "p90_ms": 0.90, "p99_ms": 0.99, "p999_ms": 0.999}
# the bootstrap interval of each percentile: empty when the sample does not support the percentile
INTERVAL_COLUMNS = [f"{m}{suffix}" for m in PERCENTILES for suffix in ("_lo", "_hi")]
SUMMARY_COLUMNS = [
    "architecture", "repeat", "step", "offered_rate", "achieved_rate", "operation", "count", "errors",
    "error_rate", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "mean_ms", *INTERVAL_COLUMNS,
]
RUN_COLUMNS = [
    "architecture", "repeat", "step", "model", "offered_rate", "achieved_rate", "requests", "cpu_s",
    "cpu_s_per_1k", "generator_cpu_share", "late_starts", "total_rss_mib", "processes", "cold_start_s",
    "readlag_p50_ms", "readlag_p99_ms",
]
SPREAD_METRICS = [*PERCENTILES, "achieved_rate", "error_rate"]
STEP_SPREAD_METRICS = ["cpu_s_per_1k"]
STEP_MEDIAN_METRICS = [
    "generator_cpu_share", "total_rss_mib", "processes", "cold_start_s", "readlag_p50_ms", "readlag_p99_ms",
]
AGGREGATE_COLUMNS = (
    ["architecture", "step", "offered_rate", "repeats", "operation", "count"]
    + [f"{m}{suffix}" for m in SPREAD_METRICS
       for suffix in (("", "_lo", "_hi", "_min", "_max") if m in PERCENTILES else ("", "_min", "_max"))]
    + [f"{m}{suffix}" for m in STEP_SPREAD_METRICS for suffix in ("", "_min", "_max")]
    + STEP_MEDIAN_METRICS
)
# each run's latency floor and generator-bound verdict (harness.results.generator), last
SUMMARY_COLUMNS += GENERATOR_COLUMNS
RUN_COLUMNS += GENERATOR_COLUMNS
AGGREGATE_COLUMNS += GENERATOR_COLUMNS
# (architecture, step, operation, metric) of the aggregate; operation None for a per-step figure
Cell = tuple[str, int, str | None, str]


def operation_order(operations: list[str] | set[str]) -> list[str]:
    known = [op for op in OPERATIONS if op in operations]
    return known + sorted(set(operations) - set(OPERATIONS))


@dataclass(frozen=True)
class Sampled:
    """One run's percentiles of one operation: the values recorded (n) and each percentile's
    bootstrap replicates (None when the run has no readable histogram)."""

    n: float
    replicates: dict[str, np.ndarray] | None
    fingerprint: int = 0


RunKey = tuple[str, int, int, str]  # architecture, repeat, step, operation


def summary_table(folder: RunFolder) -> pd.DataFrame:
    """One row per architecture x repeat x step x operation; percentiles from the HDR histograms."""
    return _summary_and_samples(folder)[0]


def _summary_and_samples(folder: RunFolder) -> tuple[pd.DataFrame, dict[RunKey, Sampled]]:
    rows = []
    samples: dict[RunKey, Sampled] = {}
    for run in folder.runs:
        generator = generator_columns(run.summary)
        for operation in _operations_of(run):
            row, sampled = _summary_row(run, operation)
            rows.append({**row, **generator})
            samples[(run.architecture, run.repeat, run.step, operation)] = sampled
    frame = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    return _sorted(frame, ["architecture", "repeat", "step", "operation"]), samples


def _operations_of(run: Run) -> list[str]:
    summary = run.summary
    found = set(run.histograms) | set(summary.get("requests") or {})
    found |= set(summary.get("percentiles_ms") or {})
    return operation_order(found)


def _summary_row(run: Run, operation: str) -> tuple[dict[str, Any], Sampled]:
    summary = run.summary
    histogram = run.histograms.get(operation)
    requests = summary.get("requests") or {}
    if operation in requests:
        count = int(requests[operation])
    else:
        count = int(histogram.get_total_count()) if histogram is not None else 0
    errors = int(sum((summary.get("errors") or {}).get(operation, {}).values()))
    row: dict[str, Any] = {
        "architecture": run.architecture,
        "repeat": run.repeat,
        "step": run.step,
        "offered_rate": _float(summary.get("offered_rate", run.info.get("offered_rate"))),
        "achieved_rate": _float(summary.get("achieved_rate")),
        "operation": operation,
        "count": count,
        "errors": errors,
        "error_rate": errors / count if count else math.nan,
    }
    if histogram is not None and histogram.get_total_count() > 0:
        recorded = Recorded.of(histogram)
        fingerprint = recorded.fingerprint()
        replicates = {}
        for column, q in PERCENTILES.items():
            row[column] = percentile(recorded, q) / 1000.0
            seed = seed_for(run.architecture, run.repeat, run.step, operation, column, fingerprint)
            replicates[column] = percentile_replicates(recorded, q, seed=seed) / 1000.0
            if supports(recorded.n, q):
                interval = interval_of(row[column], replicates[column])
                row[f"{column}_lo"], row[f"{column}_hi"] = interval.low, interval.high
        row["mean_ms"] = recorded.mean() / 1000.0
        return row, Sampled(recorded.n, replicates, fingerprint)
    # no (readable) histogram: fall back on the generator's own summary, without an interval
    reported = (summary.get("percentiles_ms") or {}).get(operation, {})
    for column in PERCENTILES:
        row[column] = _float(reported.get(column.removesuffix("_ms")))
    row["mean_ms"] = _float(reported.get("mean"))
    return row, Sampled(count - errors, None)


def histogram_mean(histogram: HdrHistogram) -> float:
    """HdrHistogram.get_mean_value(), without walking every bucket in Python (about 300x faster)."""
    return Recorded.of(histogram).mean()


def cpu_seconds(run: Run) -> float:
    """CPU-seconds of the system under test within the measured window (generator excluded)."""
    start, end = _float(run.info.get("measured_from")), _float(run.info.get("measured_to"))
    per_component = component_cpu_seconds(run.metrics, start, end)
    per_component.pop(GENERATOR, None)
    return sum(per_component.values()) if per_component else math.nan


def component_cpu_seconds(metrics: pd.DataFrame, start: float, end: float) -> dict[str, float]:
    """CPU-seconds of each component between `start` and `end` (epoch seconds).

    Each component's cumulative CPU is interpolated linearly at both ends of the window, so sampling
    at 1 Hz neither loses nor adds the part of a second next to the boundaries. A component not
    running during the window is left out.
    """
    if math.isnan(start) or math.isnan(end) or end <= start or metrics.empty:
        return {}
    result = {}
    for component, samples in metrics.groupby("component"):
        samples = samples.sort_values("t")
        t = samples["t"].to_numpy(dtype=float)
        cpu = samples["cpu_s"].to_numpy(dtype=float)
        if t[-1] < start or t[0] > end:
            continue
        at_start, at_end = np.interp([start, end], t, cpu)
        result[str(component)] = float(at_end - at_start)
    return result


def run_table(folder: RunFolder) -> pd.DataFrame:
    """One row per run: rates, CPU efficiency, generator load and operational overhead."""
    rows = []
    for run in folder.runs:
        summary, overhead, readlag = run.summary, run.overhead or {}, run.readlag or {}
        requests = sum(int(n) for op, n in (summary.get("requests") or {}).items() if op not in NOT_A_REQUEST)
        cpu = cpu_seconds(run)
        rows.append({
            "architecture": run.architecture,
            "repeat": run.repeat,
            "step": run.step,
            "model": summary.get("model", run.info.get("model")),
            "offered_rate": _float(summary.get("offered_rate", run.info.get("offered_rate"))),
            "achieved_rate": _float(summary.get("achieved_rate")),
            "requests": requests,
            "cpu_s": cpu,
            "cpu_s_per_1k": cpu / requests * 1000 if requests else math.nan,
            "generator_cpu_share": _float(summary.get("generator_cpu_share")),
            "late_starts": _float(summary.get("late_starts")),
            "total_rss_mib": _float(overhead.get("total_rss_mib")),
            "processes": _float(overhead.get("processes")),
            "cold_start_s": _float(overhead.get("cold_start_s")),
            "readlag_p50_ms": _float(readlag.get("p50_ms")),
            "readlag_p99_ms": _float(readlag.get("p99_ms")),
            **generator_columns(summary),
        })
    return _sorted(pd.DataFrame(rows, columns=RUN_COLUMNS), ["architecture", "repeat", "step"])


def aggregate_table(summary: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Per architecture x step x operation: medians across repeats with min/max (the percentiles'
    intervals left empty: compute_tables fills them); the per architecture x step efficiency and
    overhead figures are repeated on each operation's row."""
    if summary.empty:
        return pd.DataFrame(columns=AGGREGATE_COLUMNS)
    keys = ["architecture", "step", "operation"]
    grouped = summary.groupby(keys, sort=False)
    parts = {
        "offered_rate": grouped["offered_rate"].first(),
        "repeats": grouped["repeat"].nunique(),
        "count": grouped["count"].median(),
    }
    for metric in SPREAD_METRICS:
        parts[metric] = grouped[metric].median()
        parts[f"{metric}_min"] = grouped[metric].min()
        parts[f"{metric}_max"] = grouped[metric].max()
    aggregate = pd.DataFrame(parts).reset_index()
    for metric in PERCENTILES:  # filled by compute_tables, from the bootstrap
        aggregate[f"{metric}_lo"] = aggregate[f"{metric}_hi"] = math.nan
    per_step = runs.groupby(["architecture", "step"], sort=False)
    step_parts = {}
    for metric in STEP_SPREAD_METRICS:
        step_parts[metric] = per_step[metric].median()
        step_parts[f"{metric}_min"] = per_step[metric].min()
        step_parts[f"{metric}_max"] = per_step[metric].max()
    for metric in STEP_MEDIAN_METRICS:
        step_parts[metric] = per_step[metric].median()
    step_frame = pd.DataFrame(step_parts).reset_index()
    aggregate = aggregate.merge(step_frame, on=["architecture", "step"], how="left")
    aggregate = aggregate.merge(generator_per_step(summary), on=["architecture", "step"], how="left")
    return _sorted(aggregate[AGGREGATE_COLUMNS], ["architecture", "step", "operation"])


def step_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per architecture x step: efficiency and overhead, medians across repeats."""
    if runs.empty:
        return pd.DataFrame(columns=["architecture", "step", "offered_rate", "repeats", *STEP_SPREAD_METRICS])
    grouped = runs.groupby(["architecture", "step"], sort=True)
    parts: dict[str, pd.Series] = {
        "offered_rate": grouped["offered_rate"].first(),
        "repeats": grouped["repeat"].nunique(),
    }
    for metric in STEP_SPREAD_METRICS:
        parts[metric] = grouped[metric].median()
        parts[f"{metric}_min"] = grouped[metric].min()
        parts[f"{metric}_max"] = grouped[metric].max()
    for metric in STEP_MEDIAN_METRICS:
        parts[metric] = grouped[metric].median()
    steps = pd.DataFrame(parts).reset_index().merge(generator_per_step(runs), on=["architecture", "step"],
                                                    how="left")
    return _sorted(steps, ["architecture", "step"])


@dataclass(frozen=True)
class Tables:
    summary: pd.DataFrame  # per run and operation
    runs: pd.DataFrame  # per run
    aggregate: pd.DataFrame  # per architecture x step x operation, across repeats
    steps: pd.DataFrame  # per architecture x step, across repeats
    # each aggregate figure's interval across repeats, with the bootstrap replicates behind it
    intervals: dict[Cell, Interval] = field(default_factory=dict)
    # percentiles withheld from the aggregate: too few values per run to support them
    too_few: frozenset[Cell] = frozenset()


def compute_tables(folder: RunFolder, *, withhold_unsupported: bool = True) -> Tables:
    """The four tables with their intervals. A percentile whose median number of values per run does
    not support it (stats.supports) is emptied in the aggregate, spread included, unless
    `withhold_unsupported` is False (the simulation's validation still compares point values)."""
    summary, samples = _summary_and_samples(folder)
    runs = run_table(folder)
    aggregate = aggregate_table(summary, runs)
    intervals, too_few = _percentile_intervals(summary, samples)
    intervals |= _step_intervals(runs)
    aggregate = _with_intervals(aggregate, intervals, too_few if withhold_unsupported else frozenset())
    return Tables(summary=summary, runs=runs, aggregate=aggregate, steps=step_table(runs),
                  intervals=intervals, too_few=too_few)


def _percentile_intervals(
    summary: pd.DataFrame, samples: dict[RunKey, Sampled]
) -> tuple[dict[Cell, Interval], frozenset[Cell]]:
    intervals: dict[Cell, Interval] = {}
    too_few: set[Cell] = set()
    for (architecture, step, operation), rows in summary.groupby(["architecture", "step", "operation"],
                                                                sort=False):
        found = [samples[(architecture, int(repeat), int(step), operation)] for repeat in rows["repeat"]]
        n = float(np.median([s.n for s in found]))
        for metric, q in PERCENTILES.items():
            cell = (str(architecture), int(step), str(operation), metric)
            if not supports(n, q):
                too_few.add(cell)
                continue
            points = rows[metric].to_numpy(dtype=float)
            if any(s.replicates is None for s in found) or np.isnan(points).any():
                continue  # a run without a histogram: its value is kept, with no interval
            seed = seed_for("repeats", *cell, *(s.fingerprint for s in found))
            intervals[cell] = across_repeats(points, [s.replicates[metric] for s in found], seed=seed)
    return intervals, frozenset(too_few)


def _step_intervals(runs: pd.DataFrame) -> dict[Cell, Interval]:
    intervals: dict[Cell, Interval] = {}
    for (architecture, step), rows in runs.groupby(["architecture", "step"], sort=False):
        for metric in STEP_SPREAD_METRICS:
            values = rows[metric].dropna().to_numpy(dtype=float)
            if len(values):
                seed = seed_for("repeats", architecture, int(step), metric, values.tobytes().hex())
                intervals[(str(architecture), int(step), None, metric)] = repeats_interval(values, seed=seed)
    return intervals


def _with_intervals(aggregate: pd.DataFrame, intervals: dict[Cell, Interval],
                    withheld: frozenset[Cell]) -> pd.DataFrame:
    aggregate = aggregate.copy()
    for index, row in aggregate.iterrows():
        for metric in PERCENTILES:
            cell = (row["architecture"], int(row["step"]), row["operation"], metric)
            if cell in withheld:
                for suffix in ("", "_lo", "_hi", "_min", "_max"):
                    aggregate.at[index, f"{metric}{suffix}"] = math.nan
            elif cell in intervals:
                aggregate.at[index, f"{metric}_lo"] = intervals[cell].low
                aggregate.at[index, f"{metric}_hi"] = intervals[cell].high
    return aggregate


def architecture_order(architectures: list[str] | set[str]) -> list[str]:
    """The registry's order (the monolith first: it is the reference every other architecture is
    compared with), then any the registry does not know, by name."""
    known = names()
    return sorted(set(architectures),
                  key=lambda a: (known.index(a) if a in known else len(known), a))


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    if frame.empty:
        return frame.reset_index(drop=True)
    ranks = {
        "operation": {op: i for i, op in enumerate(operation_order(set(frame["operation"])))}
        if "operation" in frame else {},
        "architecture": {a: i for i, a in enumerate(architecture_order(set(frame["architecture"])))},
    }
    ranked = frame.assign(**{f"_rank_{k}": frame[k].map(ranks[k]) for k in keys if k in ranks})
    by = [f"_rank_{k}" if k in ranks else k for k in keys]
    ranked = ranked.sort_values(by, kind="stable").reset_index(drop=True)
    return ranked.drop(columns=[c for c in ranked.columns if c.startswith("_rank_")])


def _float(value: Any) -> float:
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def component_cpu_table(folder: RunFolder) -> pd.DataFrame:
    """CPU-milliseconds per request of each component (each deployable, PostgreSQL, NATS, Caddy,
    the payment provider, and the generator apart), per architecture x step, the median over
    repeats: where a request's CPU goes. A request is one the generator sent (polls included
    in the work, not in the count, as for `cpu_s_per_1k`)."""
    rows = []
    for run in folder.runs:
        requests = sum(int(n) for op, n in (run.summary.get("requests") or {}).items()
                       if op not in NOT_A_REQUEST)
        start = _float(run.info.get("measured_from"))
        end = _float(run.info.get("measured_to"))
        if not requests:
            continue
        for component, cpu in component_cpu_seconds(run.metrics, start, end).items():
            rows.append({"architecture": run.architecture, "step": run.step,
                         "repeat": run.repeat, "component": component,
                         "cpu_ms_per_request": cpu / requests * 1000})
    if not rows:
        return pd.DataFrame(columns=["architecture", "step", "component", "cpu_ms_per_request"])
    frame = pd.DataFrame(rows)
    medians = (frame.groupby(["architecture", "step", "component"], as_index=False)
               ["cpu_ms_per_request"].median())
    return _sorted(medians, ["architecture", "step", "component"])
