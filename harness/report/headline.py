"""What `archbench run` prints when it ends, so the answer is on the screen and not only behind the
report's path: per operation the p50 and p99 of each architecture and their ratio, the CPU per
1,000 requests, the scorecard's verdicts, every warning, and how long each part of the run took.

Tables are lists of `Column`s, each a header and how to fill its cell from one row: a column (an
interval, say) is one more entry in the list that builds them."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import pandas as pd
import yaml

from harness.report.render import Table
from harness.report.simulation import not_simulated
from harness.results.checks import run_folder_checks, run_folder_problems
from harness.results.findings import estimate, integrity_warnings
from harness.results.origins import grouped
from harness.results.rundir import RunFolder, load_run_folder
from harness.results.spread import DASH, Estimate, ratio_cell
from harness.results.stats import TOO_FEW
from harness.results.summary import PERCENTILES, Tables, architecture_order, compute_tables

R = TypeVar("R")
LATENCY_METRICS = (("p50_ms", "p50"), ("p99_ms", "p99"))
VERDICTS = ("supported", "refuted", "not significant", "not evaluated")
PER_RUN_STEPS = ("deploy", "idle CPU", "load", "collect", "check", "teardown")


@dataclass(frozen=True)
class Column(Generic[R]):
    header: str
    cell: Callable[[R], str]


def table(columns: list[Column[R]], rows: list[R]) -> Table:
    return Table([c.header for c in columns], [[c.cell(r) for c in columns] for r in rows])


@dataclass(frozen=True)
class Compared:
    """One operation's metric at one load step: each architecture's value across repeats, and
    the requests of each run behind it (median over repeats)."""

    operation: str
    metric: str  # a column of the aggregate table: p50_ms, p99_ms, cpu_s_per_1k
    label: str
    level: float
    values: dict[str, Estimate]
    requests: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Headline:
    title: str
    latency: Table
    efficiency: Table
    verdicts: str
    sources: list[str]  # where each result reused between runs comes from
    warnings: list[str]
    timings: Table | None


def headline(run_dir: Path) -> Headline:
    folder = load_run_folder(Path(run_dir))
    tables = compute_tables(folder)
    architectures = architecture_order(set(tables.aggregate["architecture"])) \
        if not tables.aggregate.empty else []
    several_steps = tables.aggregate["step"].nunique() > 1 if not tables.aggregate.empty else False
    return Headline(
        title=_title(folder, tables),
        latency=table(latency_columns(architectures, several_steps), latency_rows(tables.aggregate)),
        efficiency=table(efficiency_columns(architectures, several_steps),
                         efficiency_rows(tables.aggregate)),
        verdicts=verdict_counts(folder.path),
        sources=grouped([(what, origin) for what, origin in origins(folder.path)
                          if origin.get("source") != "not measured"]),
        warnings=warnings(folder, tables),
        timings=timing_table(folder.meta),
    )


def latency_rows(aggregate: pd.DataFrame) -> list[Compared]:
    rows = []
    for (step, operation), group in _by_step_and_operation(aggregate):
        for metric, label in LATENCY_METRICS:
            rows.append(_compared(group, operation, metric, label, step))
    return rows


def efficiency_rows(aggregate: pd.DataFrame) -> list[Compared]:
    """CPU-seconds of the system under test per 1,000 requests: one row per load step (the
    aggregate table repeats it on each operation's row)."""
    rows = []
    for step, group in aggregate.groupby("step", sort=True) if not aggregate.empty else []:
        first = group.drop_duplicates("architecture")
        rows.append(_compared(first, "all requests", "cpu_s_per_1k", "CPU-s / 1k requests", step))
    return rows


def _by_step_and_operation(aggregate: pd.DataFrame) -> list[tuple[tuple[int, str], pd.DataFrame]]:
    if aggregate.empty:
        return []
    order = {op: i for i, op in enumerate(dict.fromkeys(aggregate["operation"]))}
    groups = aggregate.groupby(["step", "operation"], sort=False)
    return sorted(((key, group) for key, group in groups), key=lambda kg: (kg[0][0], order[kg[0][1]]))


def _compared(group: pd.DataFrame, operation: str, metric: str, label: str, step: int) -> Compared:
    values, requests = {}, {}
    for row in group.itertuples(index=False):
        values[row.architecture] = estimate(row, metric)
        requests[row.architecture] = float(row.count)
    level = group["offered_rate"].iloc[0]
    return Compared(operation, metric, label, float(level) if pd.notna(level) else math.nan,
                    values, requests)


def latency_columns(architectures: list[str], several_steps: bool = False) -> list[Column[Compared]]:
    """operation, metric, requests per run, each architecture's value, each ratio to the first
    architecture (the reference: the monolith when there is one)."""
    columns: list[Column[Compared]] = [Column("operation", lambda r: r.operation),
                                       Column("", lambda r: r.label)]
    if several_steps:
        columns.insert(0, Column("load", lambda r: _num(r.level)))
    columns.append(Column("requests per run", lambda r: " / ".join(
        f"{r.requests[a]:.0f}" if a in r.requests else DASH for a in architectures)))
    columns += _value_columns(architectures, "ms")
    return columns + _ratio_columns(architectures)


def efficiency_columns(architectures: list[str],
                       several_steps: bool = False) -> list[Column[Compared]]:
    columns: list[Column[Compared]] = [Column("", lambda r: r.label)]
    if several_steps:
        columns.insert(0, Column("load", lambda r: _num(r.level)))
    return columns + _value_columns(architectures, "") + _ratio_columns(architectures)


def _value_columns(architectures: list[str], unit: str) -> list[Column[Compared]]:
    header = f" {unit}" if unit else ""
    return [Column(f"{arch}{header}",
                   lambda r, a=arch: value_cell(r.values.get(a), r.metric in PERCENTILES))
            for arch in architectures]


def _ratio_columns(architectures: list[str]) -> list[Column[Compared]]:
    if len(architectures) < 2:
        return []
    reference = architectures[0]

    def ratio(row: Compared, arch: str) -> str:
        value, ref = row.values.get(arch), row.values.get(reference)
        return ratio_cell(value, ref) if value is not None and ref is not None else "n/a"

    return [Column(f"{arch} / {reference}", lambda r, a=arch: ratio(r, a))
            for arch in architectures[1:]]


def value_cell(value: Estimate | None, percentile: bool = False) -> str:
    """A percentile as in the report, '20.1 [19.8-20.4]' (its bootstrap interval) or why there is
    none ('n too small'); another figure '20.1 ± 0.3' (median ± half the min-max range across
    repeats), or the median alone."""
    if value is None:
        return "n/a"
    if percentile:
        # the aggregate leaves a percentile empty when its runs recorded too few requests for it
        return value.figure() if value.known else (value.reason or TOO_FEW)
    if not value.known:
        return "n/a"
    digits = _digits(value.median)
    spread = f" ± {value.half_range:.{digits}f}" if value.repeats > 1 else ""
    return f"{value.median:.{digits}f}{spread}"


def verdict_counts(run_dir: Path) -> str:
    path = run_dir / "scorecard.json"
    try:
        claims = json.loads(path.read_text())["claims"]
    except (OSError, ValueError, KeyError, TypeError):
        return "scorecard: none (the audit did not run, or the scorecard failed)"
    counts = Counter(str(c.get("verdict")) for c in claims)
    parts = [f"{counts.pop(v)} {v}" for v in VERDICTS if v in counts]
    parts += [f"{n} {v}" for v, n in sorted(counts.items())]
    return f"scorecard: {len(claims)} claims: " + ", ".join(parts)


def warnings(folder: RunFolder, tables: Tables) -> list[str]:
    """Everything that qualifies the numbers: an unfinished run, measurement integrity, failed
    invariant checks, a step that failed, and a result left out of this run."""
    found: list[str] = []
    if not folder.complete:
        found.append(f"run incomplete ({folder.meta.get('status', 'unknown')}): "
                     f"{len(folder.runs)} of {len(folder.meta.get('planned', []))} runs finished")
    if not tables.summary.empty:
        found += integrity_warnings(tables.summary, tables.runs, tables.aggregate)
    try:
        found += [f"invariant check: {p}" for p in run_folder_problems(run_folder_checks(folder.path))]
    except Exception as exc:  # a truncated check.json: say so, the rest still prints
        found.append(f"invariant check unreadable: {exc}")
    for step, path in (("simulation", "sim"), ("audit", "audit")):
        error = folder.path / path / "error.txt"
        if error.is_file():
            found.append(f"the {step} failed: {error.read_text().strip().splitlines()[0][:300]}")
    found += _left_out(folder.path)
    return found


def origins(run_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """Each result that may come from an earlier run (harness.pipeline.reuse), and its origin."""
    found: list[tuple[str, dict[str, Any]]] = []
    audit = _json(run_dir / "audit" / "audit.json")
    for arch, origin in (audit.get("live_origins") or {}).items():
        found.append((f"live audit of the {arch}", origin))
    simulated = _json(run_dir / "sim" / "summary.json")
    if simulated.get("engine_validation"):
        found.append(("simulation engine against queueing theory", simulated["engine_validation"]))
    elif not simulated and not (run_dir / "sim" / "error.txt").exists() and \
            (_yaml(run_dir / "scenario.yaml").get("sim") or {}).get("enabled") is False:
        found.append(("simulation", {"source": "off", "reason": not_simulated(run_dir)}))
    return found


def _left_out(run_dir: Path) -> list[str]:
    return grouped([(what, origin) for what, origin in origins(run_dir)
                     if origin.get("source") == "not measured"])


def _yaml(path: Path) -> dict[str, Any]:
    try:
        found = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return {}
    return found if isinstance(found, dict) else {}


def _json(path: Path) -> dict[str, Any]:
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def timing_table(meta: dict[str, Any]) -> Table | None:
    """Seconds per part of the run: each per-run part summed over the runs, then the steps after
    them, then the whole (run.json `timings`)."""
    entries = [e for e in meta.get("timings") or [] if isinstance(e, dict)]
    if not entries:
        return None
    totals: dict[str, float] = {}
    runs: dict[str, set[str]] = {}
    for entry in entries:
        name = str(entry.get("step"))
        totals[name] = totals.get(name, 0.0) + float(entry.get("seconds") or 0.0)
        if entry.get("run"):
            runs.setdefault(name, set()).add(str(entry["run"]))
    rows = [[name, str(len(runs[name])) if name in runs else "", f"{seconds:.1f}"]
            for name, seconds in totals.items()]
    wall = meta.get("wall_s")
    rows.append(["total", "", f"{float(wall):.1f}" if wall is not None
                 else f"{sum(totals.values()):.1f} (sum of the steps)"])
    return Table(["step", "runs", "seconds"], rows)


def _title(folder: RunFolder, tables: Tables) -> str:
    runs = tables.runs
    repeats = runs["repeat"].nunique() if not runs.empty else 0
    return (f"{folder.meta.get('scenario', folder.path.name)}: {len(runs)} runs, {repeats} "
            f"repeat(s) each; median across repeats ± half their range")


def _num(value: float) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.{_digits(value)}f}"


def _digits(value: float) -> int:
    """Three significant figures or so: 123, 12.3, 1.23."""
    return 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
