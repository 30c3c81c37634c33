"""The report's simulation section, read from the files the simulation step wrote into the run
folder (calibration.yaml, sim/*.csv, sim/summary.json, sim/*.png). The report never runs the
simulation itself: `archbench run` does, and `archbench report --simulate` redoes it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from harness.report.artifacts import failure, read_json
from harness.report.render import Block, Bullets, Heading, Image, Paragraph, Table
from harness.results.origins import origin_text

METHOD = [
    "Each architecture is a SimPy queueing network (`sim/model.py`): hosts whose cores every process "
    "shares (processor sharing), processes with a fixed number of threads, connection pools and row "
    "locks, JetStream publish/store/deliver/ack, and every network hop as its own delay.",
    "Calibration (`sim/calibrate.py`): each component's CPU per visit by the service demand law, "
    "D = (CPU-seconds - background) / visits, pooled over every step that kept up with its load "
    "(so the CPU demands are in-sample for the rows judged below; the latency residuals are not); "
    "background CPU from the idle seconds measured before each run; visits (requests, statements, "
    "messages) counted by the model at the measured load.",
    "Residual latency: at the lowest measured load, what each operation's measured p50 and p99 exceed "
    "the model by is fitted as a lognormal, and the variability of a CPU burst (cv 0.5 or 1) that "
    "fits best is kept; that row is marked `calibration` and agrees by construction (up to that "
    "misfit). Every other row's latency is a prediction; below saturation an open loop's throughput "
    "is close to the offered rate whatever the model, so its throughput column says little there.",
    "Goals: |error| ≤ 10% at p50 and ≤ 20% at p99 below 80% of the measured saturation rate; "
    "saturation within 15% (the measured rate is bracketed by the sweep's last passing and first "
    "failing step).",
]


def not_simulated(run_dir: Path) -> str:
    """Why a run has no simulation section, and how to add one."""
    return (f"`sim.enabled: false` in the scenario; `archbench report --simulate {run_dir}` "
            "calibrates the models from this run's measurements and adds the section")


def simulation_blocks(run_dir: Path, slo_operation: str, enabled: bool = True) -> list[Block]:
    """`enabled`: the scenario asked for a simulation (a run that did not may have one since,
    from `archbench report --simulate`)."""
    sim_dir = run_dir / "sim"
    failed = failure(sim_dir, "Simulation", "simulation step")
    if failed:
        return failed
    summary, unreadable = read_json(sim_dir / "summary.json", "Simulation", "sim/summary.json")
    if summary is None:
        if unreadable or enabled:
            return unreadable
        return [Heading("Simulation"), Paragraph(f"Not run in this run: {not_simulated(run_dir)}.")]
    blocks: list[Block] = [Heading("Simulation")]
    lines = list(summary.get("lines", []))
    if lines:
        blocks.append(Bullets(lines))
    blocks += _calibration(run_dir / "calibration.yaml")
    blocks += _validation(sim_dir / "validation.csv", slo_operation)
    blocks += _engine(sim_dir / "engine_validation.csv", summary.get("engine_validation"))
    for caption, name in (summary.get("figures") or {}).items():
        if (sim_dir / name).is_file():
            blocks.append(Image(sim_dir / name, caption))
    notes = summary.get("notes") or []
    blocks.append(Heading("Simulation method", 3))
    blocks.append(Bullets([
        *METHOD,
        f"{summary.get('replications')} replications per point of {summary.get('simulated_s')} simulated "
        f"seconds; ± is the 95% confidence half-width. Simulation wall time {summary.get('wall_s')} s.",
        *notes]))
    return blocks


def _calibration(path: Path) -> list[Block]:
    try:
        raw: Any = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        raw = None
    if not isinstance(raw, dict) or not isinstance(raw.get("architectures"), dict):
        return [Paragraph("calibration.yaml missing or unreadable.")]
    rows = []
    for arch, body in (raw.get("architectures") or {}).items():
        for name, c in (body.get("components") or {}).items():
            rows.append([arch, name, f"{c.get('demand_ms', 0):.4f}", f"{c.get('background_cores', 0):.4f}"])
    residual_rows = []
    for arch, body in (raw.get("architectures") or {}).items():
        for op, r in (body.get("residuals") or {}).items():
            residual_rows.append([arch, op, f"{r.get('median_ms', 0):.2f}", f"{r.get('sigma', 0):.2f}"])
    blocks: list[Block] = [
        Heading("Calibration (`calibration.yaml`)", 3),
        Paragraph(f"One-way network hop {raw.get('hop_ms')} ms (configured, not measured); broker store "
                  f"{raw.get('broker_persist_ms')} ms; commit {raw.get('db_commit_ms')} ms."),
        Table(["architecture", "component", "CPU ms per visit", "background cores"], rows),
    ]
    if residual_rows:
        blocks.append(Table(["architecture", "operation", "residual median ms", "residual sigma"],
                            residual_rows))
    return blocks


def _validation(path: Path, slo_operation: str) -> list[Block]:
    try:
        table = pd.read_csv(path)
    except (OSError, pd.errors.EmptyDataError, pd.errors.ParserError):
        return []
    if table.empty:
        return []
    shown = table[table["operation"].isin([slo_operation, "search_availability"])]
    rows = []
    for row in shown.itertuples():
        rows.append([
            row.architecture, f"{row.level:g}", row.operation, row.role,
            _pred(row.measured_p50_ms, math.nan), _pred(row.predicted_p50_ms, row.predicted_p50_ci_ms),
            _err(row.p50_error), _pred(row.measured_p99_ms, math.nan),
            _pred(row.predicted_p99_ms, row.predicted_p99_ci_ms), _err(row.p99_error),
            _pred(row.measured_throughput, math.nan), _pred(row.predicted_throughput, math.nan),
            _err(row.throughput_error),
        ])
    return [
        Heading("Predicted vs measured (`sim/validation.csv` has every operation)", 3),
        Table(["architecture", "load", "operation", "row", "p50 measured", "p50 predicted", "error",
               "p99 measured", "p99 predicted", "error", "req/s measured", "req/s predicted", "error"], rows),
    ]


def _engine(path: Path, origin: dict[str, Any] | None) -> list[Block]:
    heading = Heading("The engine against queueing theory (`sim/engine_validation.csv`)", 3)
    try:
        table = pd.read_csv(path)
    except (OSError, pd.errors.EmptyDataError, pd.errors.ParserError):
        return [heading, Paragraph(origin_text(origin))] if origin else []
    rows = [[r.case, r.metric, f"{r.analytic:.4g}", f"{r.simulated:.4g} ± {r.ci_half_width:.2g}",
             "yes" if r.inside_ci else "**no**"] for r in table.itertuples()]
    said = [Paragraph(f"It depends on sim/ alone: {origin_text(origin, 'checked in this run')}.")
            ] if origin else []  # a run older than the cache says nothing
    return [heading, *said,
            Table(["case", "metric", "analytic", "simulated (95% CI, 10 replications)", "inside CI"], rows)]


def _pred(value: float, half: float) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.1f}" + ("" if half is None or math.isnan(half) else f" ± {half:.1f}")


def _err(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:+.0%}"
