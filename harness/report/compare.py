"""Markdown comparing two runs: for each architecture x step x operation and each latency percentile,
run B relative to run A, each figure with its bootstrap interval across repeats and the ratio with the
interval of the ratio; "not significant" where that interval includes 1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from harness.config.errors import HarnessError
from harness.results.findings import estimate, percentile_name
from harness.results.generator import WARN, is_bound
from harness.results.rundir import load_run_folder
from harness.results.spread import DASH, ratio_cell
from harness.results.spread import compare as judge
from harness.results.stats import CONFIDENCE, TOO_FEW
from harness.results.summary import PERCENTILES, Tables, architecture_order, compute_tables, operation_order

Key = tuple[str, int, str]


def compare(run_a: Path, run_b: Path) -> str:
    a, b = Path(run_a), Path(run_b)
    meta_a, meta_b = _meta(a), _meta(b)
    tables_a, tables_b = _tables(a), _tables(b)
    rows_a, rows_b = _rows(tables_a), _rows(tables_b)
    lines = ["# archbench compare — B relative to A", "",
             _describe("A", a, meta_a), _describe("B", b, meta_b), ""]
    incomplete = [name for name, meta in (("A", meta_a), ("B", meta_b)) if meta.get("status") != "complete"]
    if incomplete:
        who = " and ".join(incomplete)
        lines += [f"> **INCOMPLETE RUN**: {who} did not finish; only measured runs compare.", ""]
    if meta_a.get("scenario") != meta_b.get("scenario"):
        scenarios = f"{meta_a.get('scenario')} vs {meta_b.get('scenario')}"
        lines += [f"> **Note**: different scenarios ({scenarios}).", ""]
    lines += [
        f"Values are medians across repeats with their {CONFIDENCE:.0%} bootstrap interval "
        f"`[low{DASH}high]`; a ratio is B / A with the bootstrap interval of the ratio, "
        "\"not significant\" where it "
        f"includes 1. A percentile the requests of both runs are too few for ({TOO_FEW}) is left out; "
        f"{WARN} marks a value from a generator-bound run.",
        "",
    ]
    both = [key for key in rows_a if key in rows_b]
    if not both:
        lines.append("No architecture, step and operation was measured in both runs.")
    significant: list[str] = []
    for step in sorted({step for _, step, _ in both}):
        at_step = _ordered([key for key in both if key[1] == step])
        rate_a, rate_b = rows_a[at_step[0]].offered_rate, rows_b[at_step[0]].offered_rate
        title = f"## Step {step}"
        if pd.notna(rate_a) or pd.notna(rate_b):
            title += f" (offered {_rate(rate_a)} req/s in A, {_rate(rate_b)} in B)"
        lines += [title, "",
                  "| architecture | operation | percentile | A ms | B ms | B/A |",
                  "|---|---|---|---|---|---|"]
        for key in at_step:
            architecture, _, operation = key
            mark_a, mark_b = (f" {WARN}" if is_bound(rows[key]) else "" for rows in (rows_a, rows_b))
            for metric in PERCENTILES:
                value_a = estimate(rows_a[key], metric, tables_a)
                value_b = estimate(rows_b[key], metric, tables_b)
                if value_a.too_few and value_b.too_few:
                    continue
                name = percentile_name(metric)
                judgement = ratio_cell(value_b, value_a)
                lines.append(f"| {architecture} | {operation} | {name} | {value_a.figure()}{mark_a} "
                             f"| {value_b.figure()}{mark_b} | {judgement} |")
                if judge(value_b, value_a).significant:
                    significant.append(f"{architecture} s{step} {operation} {name}: {value_b.describe()} "
                                       f"in B, {judgement} A")
        lines += ["", *_floor([rows_a[key] for key in at_step], [rows_b[key] for key in at_step])]
    if significant:
        lines += ["## Significant differences", "", *(f"- {s}" for s in significant), ""]
    elif both:
        lines += ["No significant difference: every ratio's interval includes 1 (or has a single "
                  "repeat, or too few requests).", ""]
    only = sorted(set(rows_a) ^ set(rows_b), key=lambda k: (k[1], k[0], k[2]))
    if only:
        lines += ["## Measured in one run only", ""]
        for architecture, step, operation in only:
            side = "A" if (architecture, step, operation) in rows_a else "B"
            lines.append(f"- {architecture} s{step} {operation}: only in {side}")
        lines.append("")
    return "\n".join(lines)


def _tables(run_dir: Path) -> Tables:
    """The run's tables computed afresh from its histograms: the intervals need their replicates."""
    return compute_tables(load_run_folder(run_dir))


def _rows(tables: Tables) -> dict[Key, Any]:
    return {(r.architecture, int(r.step), r.operation): r for r in tables.aggregate.itertuples(index=False)}


def _floor(rows_a: list[Any], rows_b: list[Any]) -> list[str]:
    """The generator's latency floor of each side at this step, under its table."""
    sides = []
    for side, rows in (("A", rows_a), ("B", rows_b)):
        seen: dict[str, str] = {}
        for row in rows:
            p50, p99 = getattr(row, "floor_p50_ms", None), getattr(row, "floor_p99_ms", None)
            seen.setdefault(row.architecture, f"{row.architecture} {_ms(p50)} / {_ms(p99)}")
        sides.append(f"{side}: " + ", ".join(seen.values()))
    return ["Generator floor, GET /health p50 / p99 ms: " + "; ".join(sides), ""]


def _ms(value: Any) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{float(value):.2f}"


def _meta(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "run.json"
    if not path.is_file():
        raise HarnessError(f"{run_dir} is not a run folder: run.json is missing")
    try:
        meta = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HarnessError(f"{path} is not valid JSON (truncated?): {exc}") from exc
    if not isinstance(meta, dict):
        raise HarnessError(f"{path} is not a JSON object: the run folder is truncated")
    env_path = run_dir / "environment.json"
    try:
        meta["_environment"] = json.loads(env_path.read_text()) if env_path.is_file() else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        meta["_environment"] = {}
    return meta


def _describe(name: str, path: Path, meta: dict[str, Any]) -> str:
    env = meta.get("_environment", {})
    return (f"- **{name}**: `{path}` — scenario {meta.get('scenario', 'unknown')}, started "
            f"{meta.get('started_at', 'unknown')}, status {meta.get('status', 'unknown')}, "
            f"git `{env.get('git_revision', 'unknown')}`, warm-up of {meta.get('warmup_s', '?')} s discarded")


def _ordered(keys: list[Key]) -> list[Key]:
    arch_rank = {a: i for i, a in enumerate(architecture_order({k[0] for k in keys}))}
    op_rank = {o: i for i, o in enumerate(operation_order({k[2] for k in keys}))}
    return sorted(keys, key=lambda k: (arch_rank[k[0]], op_rank[k[2]]))


def _rate(rate: float) -> str:
    return "—" if pd.isna(rate) else f"{rate:g}"
