"""What the simulation is calibrated and validated on, read from a run folder and handed to sim/
as plain data: one `Step` per measured run, the aggregate table and the measured saturation."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from harness.config.errors import HarnessError
from harness.config.scenario import Scenario
from harness.results.findings import saturation, slo_of
from harness.results.provenance import portable, revision
from harness.results.rundir import RunFolder, load_run_folder
from harness.results.summary import component_cpu_seconds, compute_tables
from sim.calibrate import Step, calibrate, measured_placement
from sim.params import Calibration
from sim.validate import MeasuredSaturation


def steps_from_run(folder: RunFolder) -> list[Step]:
    steps = []
    for run in folder.runs:
        info, summary = run.info, run.summary
        start, end = _num(info.get("measured_from")), _num(info.get("measured_to"))
        if math.isnan(start) or math.isnan(end) or run.metrics.empty:
            continue
        measured = end - start
        cpu = {c: s / measured for c, s in component_cpu_seconds(run.metrics, start, end).items()}
        idle = None
        idle_from, idle_to = _num(info.get("idle_from")), _num(info.get("idle_to"))
        if not math.isnan(idle_from) and idle_to > idle_from:
            span = idle_to - idle_from
            idle = {c: s / span for c, s in
                    component_cpu_seconds(run.metrics, idle_from, idle_to).items()}
        percentiles = summary.get("percentiles_ms") or {}
        level = _num(info.get("offered_rate"))
        if math.isnan(level):
            level = _num(info.get("users"))
        steps.append(Step(
            architecture=run.architecture, repeat=run.repeat, step=run.step, level=level,
            achieved_rate=_num(summary.get("achieved_rate")), measured_s=measured,
            cpu_cores=cpu, idle_cores=idle,
            p50_ms={op: _num(p.get("p50")) for op, p in percentiles.items()},
            p99_ms={op: _num(p.get("p99")) for op, p in percentiles.items()},
            counts={op: int(n) for op, n in (summary.get("requests") or {}).items()},
            model=str(info.get("model") or "open"),
        ))
    return steps


def calibrate_run(run_dir: Path | RunFolder, base: Calibration,
                  processes: int | None = None) -> Calibration:
    """Calibrate from a run folder (its path, or the folder already read)."""
    folder = run_dir if isinstance(run_dir, RunFolder) else load_run_folder(run_dir)
    run_dir = folder.path
    scenario = Scenario.model_validate(folder.scenario) if folder.scenario else Scenario()
    scenario = scenario.model_copy(update={"sim": scenario.sim.model_copy(
        update=measured_placement(folder.environment, scenario.sim.cores_per_host))})
    steps = steps_from_run(folder)
    if not steps:
        raise HarnessError(f"{run_dir}: no run with CPU measurements to calibrate from")
    source = {"run": portable(run_dir), "scenario": folder.meta.get("scenario"),
              "git_revision": folder.environment.get("git_revision"),  # of the measurements
              "fitted_by_revision": revision(),
              "cpu": folder.environment.get("cpu"), "cores": folder.environment.get("cores")}
    return calibrate(steps, scenario, base, source, processes=processes)


def measured_tables(folder: RunFolder, scenario: Scenario
                    ) -> tuple[pd.DataFrame, dict[str, MeasuredSaturation]]:
    """The aggregate table of a run folder and, for a sweep of two or more open-loop steps, each
    architecture's measured saturation under the run's SLO. Percentiles the sample is too small for
    are kept here: the simulation's validation and its measured saturation compare point values."""
    aggregate = compute_tables(folder, withhold_unsupported=False).aggregate
    if aggregate.empty or aggregate["step"].nunique() < 2 or scenario.load.model != "open":
        return aggregate, {}
    found = saturation(aggregate, slo_of(folder.scenario))
    return aggregate, {s.architecture: MeasuredSaturation(s.rate, [(o, met) for o, _, _, met in s.steps])
                       for s in found}


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
