"""Simulation studies: a scenario (with `--set` overrides) simulated at each load level for both
architectures, replicated with independent seeds in parallel processes, summarised with 95%
confidence intervals; saturation rates; a what-if dimension swept; and the points where the two
architectures cross over.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pydantic

from harness.config.errors import describe
from harness.config.loading import apply_overrides
from harness.config.scenario import Scenario
from sim.errors import SimError
from sim.model import Outcome, settings_for, simulate
from sim.parallel import parallel_map
from sim.params import LATENCIES, Calibration
from sim.stats import mean_ci

ACHIEVED_FLOOR = 0.95
# what-if variants ------------------------------------------------------------------------------

def variants(scenario: Scenario) -> list[tuple[str, Scenario]]:
    """The what-if dimension's values, each as a scenario; just the scenario if there is none."""
    whatif = scenario.sim.whatif
    if whatif is None:
        return [("", scenario)]
    base = scenario.model_dump(mode="json")
    base["sim"]["whatif"] = None
    result = []
    for value in whatif.values:
        label = f"{whatif.parameter}={value}"
        try:
            variant = Scenario.model_validate(apply_overrides(base, [f"{whatif.parameter}={value}"]))
        except pydantic.ValidationError as exc:
            raise SimError(f"sim.whatif: {label}: {describe(exc)}") from None
        result.append((label, variant))
    return result


def levels(scenario: Scenario) -> tuple[float, ...]:
    return scenario.sim.rates or scenario.load.levels()


# running --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    scenario: Scenario
    calibration: Calibration
    architecture: str
    level: float
    seed: int
    variant: str = ""


def summarize(outcome: Outcome) -> dict[str, Any]:
    row: dict[str, Any] = {
        "architecture": outcome.architecture, "level": outcome.level, "seed": outcome.seed,
        "throughput": outcome.throughput, "offered": outcome.offered / outcome.measured_s,
        "events": outcome.events, "wall_s": outcome.wall_s, "requests": outcome.requests,
        "readlag_p50_ms": float("nan"), "readlag_p99_ms": float("nan"),
    }
    if len(outcome.read_lag):
        row["readlag_p50_ms"] = float(pd.Series(outcome.read_lag).quantile(0.5) * 1e3)
        row["readlag_p99_ms"] = float(pd.Series(outcome.read_lag).quantile(0.99) * 1e3)
    for op in LATENCIES:
        row[f"{op}_p50_ms"] = outcome.quantile_ms(op, 0.5)
        row[f"{op}_p99_ms"] = outcome.quantile_ms(op, 0.99)
        row[f"{op}_count"] = len(outcome.latencies.get(op, ()))
    for name, cpu in outcome.cpu_s.items():
        row[f"cpu_{name}"] = cpu / outcome.measured_s
    for name, visits in outcome.visits.items():
        row[f"visits_{name}"] = visits / outcome.measured_s
    return row


def _run_job(job: Job) -> dict[str, Any]:
    outcome = simulate(settings_for(job.scenario, job.calibration, job.architecture, job.level,
                                    job.seed))
    row = summarize(outcome)
    row["variant"] = job.variant
    return row


def run_jobs(jobs: list[Job], processes: int | None = None) -> pd.DataFrame:
    """Every job, in parallel processes (independent replications), as one row each."""
    if not jobs:
        return pd.DataFrame()
    return pd.DataFrame(parallel_map(_run_job, jobs, processes))


def replicate(scenario: Scenario, calibration: Calibration, architectures: Sequence[str],
              level_list: Sequence[float], variant: str = "") -> list[Job]:
    return [Job(scenario, calibration, arch, level, scenario.seed * 1000 + r, variant)
            for arch in architectures for level in level_list
            for r in range(scenario.sim.replications)]


def aggregate(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% CI half-width across replications, per architecture, variant and level."""
    if rows.empty:
        return rows
    metrics = ["throughput", "readlag_p50_ms", "readlag_p99_ms"] + [
        f"{op}_{q}_ms" for op in LATENCIES for q in ("p50", "p99")]
    out = []
    for (variant, arch, level), group in rows.groupby(["variant", "architecture", "level"], sort=False):
        record: dict[str, Any] = {"variant": variant, "architecture": arch, "level": level,
                                  "replications": len(group)}
        for metric in metrics:
            mean, half = mean_ci(group[metric].astype(float).tolist())
            record[metric] = mean
            record[f"{metric}_ci"] = half
        out.append(record)
    return pd.DataFrame(out)


def meets(row: pd.Series | dict[str, Any], scenario: Scenario) -> bool:
    p99 = row[f"{scenario.slo.operation}_p99_ms"]
    return bool(not math.isnan(p99) and p99 <= scenario.slo.p99_ms
                and row["throughput"] >= ACHIEVED_FLOOR * row["level"])


def saturation(scenario: Scenario, calibration: Calibration, architecture: str,
               start: float, processes: int | None = None, iterations: int = 4) -> float | None:
    """The highest open-loop rate meeting the SLO with >= 95% achieved.

    A short run at `start` gives the CPU per request of every process; the host's cores divided
    by their sum bounds the rate (the utilisation law). The search brackets the answer around
    that bound, widening while the bracket's ends do not pass and fail, then bisects; each probe
    is the mean of (at most 2) replications of a short run."""
    short = scenario.model_copy(update={
        "load": scenario.load.model_copy(update={"model": "open"}),
        "sim": scenario.sim.model_copy(update={"duration_s": min(scenario.sim.duration_s, 10.0),
                                               "warmup_s": min(scenario.sim.warmup_s, 2.0),
                                               "replications": min(scenario.sim.replications, 2)})})

    def probe(rate: float) -> pd.Series:
        return aggregate(run_jobs(replicate(short, calibration, [architecture], [rate]), processes)).iloc[0]

    first = run_jobs(replicate(short, calibration, [architecture], [max(start, 1.0)])[:1], processes)
    # the CPU the system's hosts give: the generator's counts only when it shares host 0
    components = {name: c for name, c in calibration.arch(architecture).components.items()
                  if scenario.sim.generator_on_host or name != "generator"}
    background = sum(c.background_cores for c in components.values())
    per_request = sum(float(first[c].iloc[0]) - components[c[4:]].background_cores
                      for c in first.columns if c.startswith("cpu_") and c[4:] in components) \
        / max(float(first["throughput"].iloc[0]), 1e-9)
    free = max(scenario.sim.hosts * scenario.sim.cores_per_host - background, 1e-3)
    bound = free / max(per_request, 1e-12)
    low, high = 0.3 * bound, 1.1 * bound
    for _ in range(8):
        if meets(probe(low), short):
            break
        high, low = low, low / 3
    else:
        return None
    for _ in range(8):
        if not meets(probe(high), short):
            break
        low, high = high, high * 2
    else:
        return None  # never failed within 2^8 times the bound: no saturation found
    for _ in range(iterations):
        middle = (low + high) / 2
        if meets(probe(middle), short):
            low = middle
        else:
            high = middle
    return low


def crossovers(table: pd.DataFrame, parameter: str, metric: str,
               labels: dict[float, str] | None = None,
               pair: tuple[str, str] = ("monolith", "microservices")) -> list[str]:
    """Where the two architectures of `pair` trade places on `metric` as `parameter` (column
    `value`) varies.

    A sign change of the first minus the second between two neighbouring values is a cross-over;
    with `{metric}_ci` columns it is called not significant when the 95% intervals of the two
    architectures overlap at either neighbour. `labels` name non-numeric values (then no
    interpolated value is given)."""
    if table.empty or "value" not in table or table["architecture"].nunique() < 2:
        return []
    wide = table.pivot_table(index="value", columns="architecture", values=metric)
    first, second = pair
    if first not in wide or second not in wide:
        return []
    wide = wide.dropna().sort_index()
    half = None
    if f"{metric}_ci" in table:
        half = table.pivot_table(index="value", columns="architecture",
                                 values=f"{metric}_ci").reindex(wide.index)
    sentences = []
    values = list(wide.index)
    diff = (wide[first] - wide[second]).tolist()
    lower_is_better = not metric.startswith("saturation")
    for i in range(1, len(values)):
        a, b = diff[i - 1], diff[i]
        if a * b > 0 or (a == 0 and b == 0) or (a == 0 and i > 1):
            continue  # a zero is counted once, where the sign leaves it
        x0, x1 = float(values[i - 1]), float(values[i])
        better_first = (a < 0 or (a == 0 and b > 0)) == lower_is_better
        first_better, other = (first, second) if better_first else (second, first)
        if labels:
            where = f"between {labels.get(x0, x0)} and {labels.get(x1, x1)}"
        else:
            at = x0 + (x1 - x0) * a / (a - b) if a != b else x0
            where = f"at {parameter} ≈ {at:.3g} (between {x0:g} and {x1:g})"
        sentence = f"{metric}: {first_better} is better below, {other} above, {where}"
        if half is not None and (_overlap(wide, half, values[i - 1], pair)
                                 or _overlap(wide, half, values[i], pair)):
            sentence += " — not significant: the 95% intervals overlap"
        sentences.append(sentence)
    return sentences


def _overlap(wide: pd.DataFrame, half: pd.DataFrame, at: float, pair: tuple[str, str]) -> bool:
    m, s = wide.loc[at, pair[0]], wide.loc[at, pair[1]]
    hm, hs = half.loc[at, pair[0]], half.loc[at, pair[1]]
    if math.isnan(hm) or math.isnan(hs):
        return False
    return abs(m - s) <= hm + hs
