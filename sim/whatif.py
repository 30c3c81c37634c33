"""`archbench sim`: a scenario simulated for both architectures at each load level, replicated,
optionally across a what-if dimension (`sim.whatif`), with saturation rates and cross-overs,
written to an output folder (CSV, PNG, summary.md)."""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from harness.config.scenario import Scenario
from sim import plots
from sim.parallel import parallel_map
from sim.params import Calibration, save
from sim.study import aggregate, crossovers, levels, replicate, run_jobs, saturation, variants


@dataclass
class WhatIf:
    scenario: Scenario
    rows: pd.DataFrame
    summary: pd.DataFrame
    saturation: pd.DataFrame
    crossovers: list[str]
    figures: dict[str, Path] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def events_per_s(self) -> float:
        wall = self.rows["wall_s"].sum()
        return float(self.rows["events"].sum() / wall) if wall else math.nan

    @property
    def requests_per_s(self) -> float:
        wall = self.rows["wall_s"].sum()
        return float(self.rows["requests"].sum() / wall) if wall else math.nan


def numeric(value: Any) -> float:
    """A what-if value as a number: itself, or the first number in `fixed:0.05`-like strings."""
    if isinstance(value, bool):
        return math.nan
    if isinstance(value, int | float):
        return float(value)
    found = re.search(r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?", str(value))
    return float(found.group()) if found else math.nan


def _saturation_job(args: tuple[Scenario, Calibration, str, float, str]) -> dict[str, Any]:
    scenario, cal, arch, start, variant = args
    rate = saturation(scenario, cal, arch, start, processes=1)
    return {"variant": variant, "architecture": arch, "rate": rate}


def run(scenario: Scenario, cal: Calibration, *, processes: int | None = None,
        with_saturation: bool = True) -> WhatIf:
    began = time.perf_counter()
    found = variants(scenario)
    parameter = scenario.sim.whatif.parameter if scenario.sim.whatif else ""
    values = dict(zip([label for label, _ in found],
                      scenario.sim.whatif.values if scenario.sim.whatif else [None], strict=True))
    jobs = []
    for label, variant in found:
        jobs += replicate(variant, cal, scenario.architectures, levels(variant), label)
    rows = run_jobs(jobs, processes)
    summary = aggregate(rows)
    # a what-if's x axis: its values when they are distinct numbers, else their order
    numbers = [numeric(v) for v in values.values()]
    labels = None
    if not all(math.isfinite(n) for n in numbers) or len(set(numbers)) < len(numbers):
        numbers = [float(i) for i in range(len(numbers))]
        labels = dict(zip(numbers, values, strict=True))
    x_of = dict(zip(values, numbers, strict=True))
    summary["value"] = [x_of.get(v, math.nan) for v in summary["variant"]]
    sat = pd.DataFrame(columns=["variant", "architecture", "rate", "value"])
    if with_saturation and scenario.load.model == "open":
        searches = [(variant, cal, arch, float(min(levels(variant))), label)
                    for label, variant in found for arch in scenario.architectures]
        sat = pd.DataFrame(parallel_map(_saturation_job, searches, processes))
        sat["rate"] = pd.to_numeric(sat["rate"], errors="coerce")
        sat["value"] = [x_of.get(v, math.nan) for v in sat["variant"]]
    sentences: list[str] = []
    if parameter:
        slo_op = scenario.slo.operation
        for level in sorted(summary["level"].unique()):
            at = summary[summary["level"] == level]
            for quantile in ("p50", "p99"):
                sentences += [f"at {level:g}: {s}" for s in
                              crossovers(at, parameter, f"{slo_op}_{quantile}_ms", labels)]
        if not sat.empty:
            sentences += crossovers(sat.rename(columns={"rate": "saturation_rate"}), parameter,
                                    "saturation_rate", labels)
    return WhatIf(scenario, rows, summary, sat, sentences, wall_s=time.perf_counter() - began)


def write(result: WhatIf, cal: Calibration, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    scenario = result.scenario
    (out / "scenario.yaml").write_text(yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False))
    save(cal, out / "calibration.yaml")
    result.rows.to_csv(out / "replications.csv", index=False)
    result.summary.to_csv(out / "summary.csv", index=False)
    result.saturation.to_csv(out / "saturation.csv", index=False)
    (out / "crossovers.json").write_text(json.dumps(result.crossovers, indent=2))
    slo = scenario.slo
    result.figures["latency against load"] = plots.latency_vs_load(
        result.summary, slo.operation, out / "latency_vs_load.png", slo_ms=slo.p99_ms)
    parameter = scenario.sim.whatif.parameter if scenario.sim.whatif else ""
    if parameter and result.summary["value"].notna().any():
        if not result.saturation.empty and result.saturation["rate"].notna().any():
            result.figures["saturation against the what-if"] = plots.saturation_vs_parameter(
                result.saturation, parameter, out / "saturation.png")
        first = float(result.summary["level"].min())
        result.figures[f"{slo.operation} p50 against the what-if"] = plots.metric_vs_parameter(
            result.summary, f"{slo.operation}_p50_ms", parameter, first, out / "whatif_p50.png")
    (out / "summary.md").write_text(markdown(result, cal))
    return out


def markdown(result: WhatIf, cal: Calibration) -> str:
    scenario = result.scenario
    op = scenario.slo.operation
    lines = [f"# archbench sim — {scenario.name}", "",
             f"Calibration: {cal.source.get('run') or cal.source.get('note') or 'see calibration.yaml'}. "
             f"{scenario.sim.replications} replications per point, {scenario.sim.duration_s:g} s simulated "
             f"after {scenario.sim.warmup_s:g} s of warm-up; ± is the 95% confidence half-width.", "",
             f"| variant | architecture | load | {op} p50 ms | {op} p99 ms | throughput req/s |",
             "|---|---|---|---|---|---|"]
    for row in result.summary.itertuples():
        lines.append(f"| {row.variant or '—'} | {row.architecture} | {row.level:g} | "
                     f"{_pm(getattr(row, f'{op}_p50_ms'), getattr(row, f'{op}_p50_ms_ci'))} | "
                     f"{_pm(getattr(row, f'{op}_p99_ms'), getattr(row, f'{op}_p99_ms_ci'))} | "
                     f"{_pm(row.throughput, row.throughput_ci)} |")
    if not result.saturation.empty:
        lines += ["", "Saturation (highest rate with p99 within the SLO and >= 95% achieved):", ""]
        for row in result.saturation.itertuples():
            rate = "none" if row.rate is None or (isinstance(row.rate, float) and math.isnan(row.rate)) \
                else f"{row.rate:.0f} req/s"
            lines.append(f"- {row.variant or 'scenario'}: {row.architecture} {rate}")
    lines += ["", "Cross-overs:", ""]
    lines += [f"- {s}" for s in result.crossovers] or ["- none in the range simulated"]
    lines += ["", f"Speed: {result.events_per_s:,.0f} events/s, {result.requests_per_s:,.0f} simulated "
              f"requests/s per process; {result.wall_s:.1f} s wall."]
    return "\n".join(lines) + "\n"


def _pm(value: float, half: float) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    if half is None or math.isnan(half):
        return f"{value:.3g}"
    return f"{value:.3g} ± {half:.2g}"
