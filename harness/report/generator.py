"""What the report says about the load generator: the CPU split it ran with, its latency floor
beside every latency table, and a ⚠ on every number from a generator-bound run."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

from harness.report.render import Block, Paragraph, Table
from harness.results.generator import (
    CPU_SHARE_LIMIT,
    LATE_FRACTION_LIMIT,
    LATE_START_MS,
    WARN,
    is_bound,
)
from harness.results.rundir import RunFolder

__all__ = ["WARN", "bound_warnings", "cpu_split_line", "flagged", "floor_blocks", "generator_rule",
           "is_bound", "marked"]


def cpu_split_line(folder: RunFolder) -> str:
    """The environment section's line on the CPU split: planned, and checked against what each
    run's processes were found pinned to."""
    split = folder.environment.get("cpu_split")
    if not isinstance(split, dict):
        return "**CPU split**: not recorded (a run from before the split)"
    if not split.get("pinned"):
        return f"**CPU split**: none, {split.get('note', 'not pinned')}"
    generator, system = split.get("generator") or [], split.get("system") or []
    line = (f"**CPU split**: load generator on CPU {_cpus(generator)}, system under test on CPU "
            f"{_cpus(system)} ({split.get('note', '')})")
    strays = list(_strays(folder, set(generator), set(system)))
    if strays:
        return line + f"; {WARN} not as planned: " + "; ".join(strays)
    checked = sum(1 for run in folder.runs if isinstance(run.info.get("cpu_affinity"), dict))
    return line + (f"; read back from every process of {checked} run(s)" if checked else "")


def _strays(folder: RunFolder, generator: set[int], system: set[int]) -> Iterable[str]:
    for run in folder.runs:
        found = run.info.get("cpu_affinity")
        if not isinstance(found, dict):
            continue
        for name, cpus in found.items():
            expected = generator if name == "generator" else system
            if cpus is not None and set(cpus) != expected:
                yield f"{run.label} {name} ran on CPU {_cpus(cpus)}"


def _cpus(cpus: Iterable[int]) -> str:
    return ",".join(str(c) for c in sorted(cpus)) or "none"


def flagged(cells: list[str], row: Any, keep: int = 2) -> list[str]:
    """The cells of a table row, each number after the first `keep` (its labels) marked ⚠ when
    the row comes from a generator-bound run."""
    return marked(cells, is_bound(row), keep)


def marked(cells: list[str], bound: bool, keep: int = 2) -> list[str]:
    return cells[:keep] + [f"{cell} {WARN}" for cell in cells[keep:]] if bound else cells


def bound_warnings(steps: pd.DataFrame) -> list[str]:
    """One line per architecture x step whose generator was saturated in some repeat."""
    if "generator_bound" not in steps:
        return []
    return [f"{WARN} {row.architecture} s{row.step} is generator-bound ({row.generator_bound_reason}):"
            f" every number from it carries {WARN}, it may measure the generator as much as the system"
            for row in steps.itertuples(index=False) if is_bound(row)]


def generator_rule() -> str:
    return (f"a run is generator-bound when its generator used ≥ {CPU_SHARE_LIMIT:.0%} of a CPU "
            f"or started > {LATE_FRACTION_LIMIT:.0%} of its arrivals over {LATE_START_MS} ms late "
            "(arrivals waiting for a free slot of a full pool excepted)")


def floor_blocks(at_step: pd.DataFrame) -> list[Block]:
    """The generator's latency floor beside a step's latency table: one row per architecture."""
    if "floor_p50_ms" not in at_step:
        return []
    per_architecture = at_step.drop_duplicates("architecture")
    if per_architecture[["floor_p50_ms", "floor_p99_ms"]].isna().all().all():
        return [Paragraph("Generator floor: not measured in this run (it predates the floor probe).")]
    rows = [flagged([row.architecture, _ms(row.floor_p50_ms), _ms(row.floor_p99_ms)], row, keep=1)
            for row in per_architecture.itertuples(index=False)]
    return [Paragraph("Generator floor: what the load generator reports for GET /health through the "
                      "gateway of the same deployment, just before the load (median of repeats); "
                      "a latency near it says more about the measuring path than about the system."),
            Table(["architecture", "floor p50 ms", "floor p99 ms"], rows)]


def _ms(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.2f}"
