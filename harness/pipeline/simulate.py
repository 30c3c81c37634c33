"""The simulation part of `archbench run` (and `archbench report --simulate`): calibrate the models
from the run folder, predict every measured step, search the saturation rates, draw latency
against load past what was measured, and write it all under the run folder for the report:

    calibration.yaml            the fitted parameters (edit and pass to `archbench sim`)
    sim/validation.csv          predicted vs measured p50, p99, throughput per step and operation
    sim/saturation.csv          predicted vs measured saturation rate
    sim/predictions.csv         the predictions (mean and 95% CI over replications)
    sim/curves.csv              latency against load beyond the measured steps
    sim/engine_validation.csv   the engine against M/M/1, M/M/c, processor-sharing M/M/1 and M/M/2,
                                and exact MVA (95% CI, 10 replications); it depends on sim/ alone,
                                so an earlier run's is reused (sim.engine_validation)
    sim/summary.json            sentences for the report
    sim/*.png                   figures
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.config.scenario import Scenario
from harness.pipeline.calibration import calibrate_run, measured_tables
from harness.pipeline.reuse import engine_validation_rows
from harness.results.origins import origin_text
from harness.results.rundir import load_run_folder
from sim import params, plots, whatif
from sim.calibrate import measured_placement
from sim.engine_validation import SEED as ENGINE_SEED
from sim.engine_validation import validation_table
from sim.parallel import reporting
from sim.study import aggregate, replicate, run_jobs
from sim.validate import summary_lines, validate

CURVE_POINTS = 6
ENGINE_REPLICATIONS = 10


def simulate_run(run_dir: Path, processes: int | None = None, *, fresh: bool = False,
                 step: Callable[[str], None] = lambda _: None) -> Path:
    """Everything is written to sim.partial/ and swapped in at the end, calibration.yaml last, so
    an interrupted or failed simulation never leaves a mix of old and new files. `step` hears
    what is being simulated and how many of its replications are done; `fresh`: check the
    engine against queueing theory again even if an earlier run did it for this sim/ code."""
    run_dir = Path(run_dir)
    partial = run_dir / "sim.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        progress = _Progress(step)
        with reporting(progress):
            cal = _simulate_into(run_dir, partial, processes, fresh, progress)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    final = run_dir / "sim"
    shutil.rmtree(final, ignore_errors=True)
    partial.rename(final)
    params.save(cal, run_dir / "calibration.yaml")
    return final


class _Progress:
    """The phase being simulated, and how far its parallel replications have got."""

    def __init__(self, step: Callable[[str], None]) -> None:
        self.step = step
        self.text = ""

    def phase(self, text: str) -> None:
        self.text = text
        self.step(text)

    def __call__(self, done: int, total: int) -> None:
        if total > 1:
            self.step(f"{self.text} ({done}/{total} replications)")


def _simulate_into(run_dir: Path, out: Path, processes: int | None, fresh: bool,
                   progress: _Progress) -> params.Calibration:
    began = time.perf_counter()
    folder = load_run_folder(run_dir)
    scenario = Scenario.model_validate(folder.scenario) if folder.scenario else Scenario()
    declared = scenario  # with its own what-if, if it declares one
    measured_s = max(scenario.duration_s - scenario.warmup_s, 1.0)
    scenario = scenario.model_copy(update={"sim": scenario.sim.model_copy(update={
        "duration_s": max(scenario.sim.duration_s, measured_s),
        **measured_placement(folder.environment, scenario.sim.cores_per_host),
        "hosts": 1, "replicas": {}, "network_rtt_ms": None, "broker_latency_ms": None,
        "payment_latency": None, "whatif": None})})
    progress.phase("calibrating the models from this run")
    cal = calibrate_run(folder, params.default(), processes)

    progress.phase("the engine against queueing theory")
    rows, engine_origin = engine_validation_rows(
        scenario.sim.engine_validation, run_dir, fresh=fresh, replications=ENGINE_REPLICATIONS,
        seed=ENGINE_SEED, compute=lambda: validation_table(
            replications=ENGINE_REPLICATIONS, seed=ENGINE_SEED,
            workers=processes or os.cpu_count() or 1))
    engine = pd.DataFrame(rows or [])
    if rows is not None:
        engine.to_csv(out / "engine_validation.csv", index=False)

    progress.phase("predicting every measured step" + (
        ", searching the saturation rates" if scenario.sim.saturation_search else ""))
    aggregate, sat_measured = measured_tables(folder, scenario)
    validation = validate(aggregate, sat_measured, cal, scenario, processes,
                          with_saturation=scenario.sim.saturation_search)
    validation.table.to_csv(out / "validation.csv", index=False)
    validation.saturation.to_csv(out / "saturation.csv", index=False)
    validation.simulated.to_csv(out / "predictions.csv", index=False)

    figures: dict[str, str] = {}
    slo_op = scenario.slo.operation
    if not validation.table.empty:
        measured = validation.table[validation.table["operation"] == slo_op]
        figures["Simulated vs measured"] = plots.latency_vs_load(
            validation.simulated.assign(variant=""), slo_op, out / "validation.png", measured=measured,
            slo_ms=scenario.slo.p99_ms,
            title=f"{slo_op}: simulated (lines, 95% CI) vs measured (x) at each measured step").name

    progress.phase("latency against load past the measured steps")
    curves = _curves(scenario, cal, validation, processes)
    if not curves.empty:
        curves.to_csv(out / "curves.csv", index=False)
        figures["Latency against load past the measured steps (what-if)"] = plots.latency_vs_load(
            curves.assign(variant=""), slo_op, out / "curves.png", slo_ms=scenario.slo.p99_ms,
            title=f"{slo_op}: simulated latency against load (95% CI)").name

    lines = summary_lines(validation) + engine_lines(engine, engine_origin)
    if declared.sim.whatif is not None:
        progress.phase(f"what-if {declared.sim.whatif.parameter}")
        result = whatif.run(declared, cal, processes=processes,
                            with_saturation=declared.sim.saturation_search)
        whatif.write(result, cal, out / "whatif")
        for caption, path in result.figures.items():
            figures[f"What-if ({declared.sim.whatif.parameter}): {caption}"] = f"whatif/{path.name}"
        lines += [f"what-if {declared.sim.whatif.parameter}: {s}" for s in result.crossovers] or [
            f"what-if {declared.sim.whatif.parameter}: no cross-over in the range simulated "
            "(`sim/whatif/summary.md`)"]
    summary: dict[str, Any] = {
        "lines": lines,
        "figures": figures,
        "calibration_level": cal.source.get("calibration_level", {}),
        "notes": cal.source.get("notes", []),
        "wall_s": round(time.perf_counter() - began, 1),
        "replications": scenario.sim.replications,
        "simulated_s": scenario.sim.duration_s,
        "engine_validation": engine_origin,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return cal


def _curves(scenario: Scenario, cal: params.Calibration, validation: Any,
            processes: int | None) -> pd.DataFrame:
    """Latency against load for each architecture, from the lowest measured level to 30% past its
    predicted saturation rate (or twice the highest measured level when none was searched)."""
    if scenario.load.model != "open":
        return pd.DataFrame()
    levels = [float(v) for v in scenario.load.levels()]
    sat = validation.saturation
    quick = scenario.model_copy(update={"sim": scenario.sim.model_copy(update={
        "duration_s": min(scenario.sim.duration_s, 15.0),
        "replications": min(scenario.sim.replications, 3)})})
    jobs = []
    for arch in scenario.architectures:
        found = sat[sat["architecture"] == arch]["predicted_rate"] if not sat.empty else pd.Series()
        top = float(found.iloc[0]) * 1.3 if len(found) and pd.notna(found.iloc[0]) else max(levels) * 2
        grid = sorted({*[v for v in levels if v <= top],
                       *np.linspace(min(levels), top, CURVE_POINTS).round(1).tolist()})
        jobs += replicate(quick, cal, [arch], grid)
    return aggregate(run_jobs(jobs, processes))


def engine_lines(engine: pd.DataFrame, origin: dict[str, Any] | None = None) -> list[str]:
    origin = origin or {"source": "measured"}
    if origin.get("source") in ("not measured", "off"):
        return [f"engine vs queueing theory: not checked in this run ({origin.get('reason')})"]
    if engine.empty:
        return []
    inside = int(engine["inside_ci"].sum())
    return [f"engine vs queueing theory: {inside} of {len(engine)} analytic values inside the simulated 95% "
            "confidence interval (M/M/1, M/M/c, M/M/1 and M/M/2 processor sharing, a closed network by "
            f"exact MVA; `sim/engine_validation.csv`), {origin_text(origin, 'checked in this run')}"]
