"""Markdown comparing two runs' aggregate tables: for each architecture x step x operation, p50 and
p99 of run B relative to run A, with the spread across repeats; "not significant" where ranges overlap."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from harness.config.errors import HarnessError
from harness.results.findings import estimate
from harness.results.generator import GENERATOR_COLUMNS, WARN, is_bound
from harness.results.rundir import load_run_folder
from harness.results.spread import DASH, TIMES, ratio_cell
from harness.results.summary import architecture_order, compute_tables, operation_order

_KEYS = ["architecture", "step", "operation"]


def compare(run_a: Path, run_b: Path) -> str:
    a, b = Path(run_a), Path(run_b)
    meta_a, meta_b = _meta(a), _meta(b)
    agg_a, agg_b = _aggregate(a), _aggregate(b)
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
        "Values are medians across repeats with their min-max range; a ratio is B / A, with the "
        "lowest-highest ratio the two ranges allow, and \"not significant\" where the ranges overlap; "
        f"{WARN} marks a value from a generator-bound run.",
        "",
    ]
    merged = agg_a.merge(agg_b, on=_KEYS, how="outer", suffixes=("_a", "_b"), indicator="presence")
    both = merged[merged["presence"] == "both"]
    if both.empty:
        lines.append("No architecture, step and operation was measured in both runs.")
    significant: list[str] = []
    for step in sorted(both["step"].unique()):
        at_step = both[both["step"] == step]
        rate_a, rate_b = at_step["offered_rate_a"].iloc[0], at_step["offered_rate_b"].iloc[0]
        title = f"## Step {step}"
        if pd.notna(rate_a) or pd.notna(rate_b):
            title += f" (offered {_rate(rate_a)} req/s in A, {_rate(rate_b)} in B)"
        lines += [title, "",
                  "| architecture | operation | p50 A ms | p50 B ms | p50 B/A "
                  "| p99 A ms | p99 B ms | p99 B/A |",
                  "|---|---|---|---|---|---|---|---|"]
        for row in _ordered(at_step).itertuples(index=False):
            cells = [row.architecture, row.operation]
            mark_a, mark_b = (f" {WARN}" if is_bound(_Side(row, side)) else "" for side in "ab")
            for metric in ("p50_ms", "p99_ms"):
                value_a, value_b = estimate(_Side(row, "a"), metric), estimate(_Side(row, "b"), metric)
                judgement = ratio_cell(value_b, value_a)
                cells += [_range(value_a) + mark_a, _range(value_b) + mark_b, judgement]
                if TIMES in judgement and not judgement.startswith(("not significant", "n/a")) \
                        and "single repeat" not in judgement:
                    name = f"{row.architecture} s{step} {row.operation} {metric.removesuffix('_ms')}"
                    significant.append(f"{name}: {value_b.describe()} in B, {judgement} A")
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", *_floor(at_step)]
    if significant:
        lines += ["## Significant differences", "", *(f"- {s}" for s in significant), ""]
    elif not both.empty:
        lines += ["No significant difference: every range overlaps (or has a single repeat).", ""]
    only = merged[merged["presence"] != "both"]
    if not only.empty:
        lines += ["## Measured in one run only", ""]
        for r in only.itertuples(index=False):
            side = "A" if r.presence == "left_only" else "B"
            lines.append(f"- {r.architecture} s{r.step} {r.operation}: only in {side}")
        lines.append("")
    return "\n".join(lines)


class _Side:
    """One run's columns of a merged row, under their aggregate names."""

    def __init__(self, row: Any, side: str) -> None:
        self._row, self._side = row, side

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, f"{name}_{self._side}")


def _floor(at_step: pd.DataFrame) -> list[str]:
    """The generator's latency floor of each side at this step, under its table."""
    if not {"floor_p50_ms_a", "floor_p50_ms_b"} <= set(at_step.columns):
        return []
    sides = []
    for side in "ab":
        parts = [f"{row.architecture} {_ms(getattr(row, f'floor_p50_ms_{side}'))} / "
                 f"{_ms(getattr(row, f'floor_p99_ms_{side}'))}"
                 for row in _ordered(at_step).drop_duplicates("architecture").itertuples(index=False)]
        sides.append(f"{side.upper()}: " + ", ".join(parts))
    return ["Generator floor, GET /health p50 / p99 ms: "
            + "; ".join(sides), ""]


def _ms(value: Any) -> str:
    return "n/a" if pd.isna(value) else f"{float(value):.2f}"


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


def _aggregate(run_dir: Path) -> pd.DataFrame:
    """The run's aggregate.csv, or the aggregate computed afresh when the report was never built;
    the generator's columns blank in one from before they were written."""
    path = run_dir / "aggregate.csv"
    if path.is_file():
        try:
            frame = pd.read_csv(path)
        except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
            raise HarnessError(f"{path} is unreadable; rebuild it with `archbench report {run_dir}`") from exc
    else:
        frame = compute_tables(load_run_folder(run_dir)).aggregate
    missing = [c for c in GENERATOR_COLUMNS if c not in frame.columns]
    return frame.reindex(columns=[*frame.columns, *missing])


def _describe(name: str, path: Path, meta: dict[str, Any]) -> str:
    env = meta.get("_environment", {})
    return (f"- **{name}**: `{path}` — scenario {meta.get('scenario', 'unknown')}, started "
            f"{meta.get('started_at', 'unknown')}, status {meta.get('status', 'unknown')}, "
            f"git `{env.get('git_revision', 'unknown')}`, warm-up of {meta.get('warmup_s', '?')} s discarded")


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    arch_rank = {a: i for i, a in enumerate(architecture_order(set(frame["architecture"])))}
    op_rank = {o: i for i, o in enumerate(operation_order(set(frame["operation"])))}
    return frame.assign(_a=frame["architecture"].map(arch_rank), _o=frame["operation"].map(op_rank)) \
        .sort_values(["_a", "_o"]).drop(columns=["_a", "_o"])


def _range(value: Any) -> str:
    if not value.known:
        return "n/a"
    if value.repeats < 2:
        return f"{value.median:.2f}"
    return f"{value.median:.2f} ({value.low:.2f}{DASH}{value.high:.2f})"


def _rate(rate: float) -> str:
    return "—" if pd.isna(rate) else f"{rate:g}"
