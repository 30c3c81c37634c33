"""The report's content, section by section, as render blocks built from the computed tables."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from harness.report.coupling import coupling_blocks
from harness.report.generator import (
    WARN,
    bound_warnings,
    cpu_split_line,
    flagged,
    floor_blocks,
    generator_rule,
    is_bound,
    marked,
)
from harness.report.render import Block, Bullets, Heading, Image, Notice, Paragraph, Table
from harness.report.resilience import invariant_blocks, resilience_blocks
from harness.report.scorecard import scorecard_blocks
from harness.report.simulation import simulation_blocks
from harness.results.findings import (
    ACHIEVED_FLOOR,
    ERROR_RATE_CEILING,
    GENERATOR_CPU_CEILING,
    REPEAT_P50_DISAGREEMENT,
    comparison_sentences,
    estimate,
    integrity_warnings,
    percentile_name,
    saturation,
    slo_of,
)
from harness.results.rundir import RunFolder
from harness.results.spread import DASH, TIMES, relative
from harness.results.stats import CONFIDENCE, TOO_FEW, min_samples
from harness.results.summary import (
    GENERATOR,
    PERCENTILES,
    Tables,
    architecture_order,
    component_cpu_table,
)

OVERHEAD_FIELDS = [
    ("deployables", "deployables"), ("processes", "processes"), ("databases", "databases"),
    ("ports", "ports"), ("infrastructure", "infrastructure"), ("total_rss_mib", "RSS (MiB)"),
    ("cold_start_s", "cold start (s)"), ("config_lines", "config lines"),
]


def title_of(folder: RunFolder) -> str:
    return f"archbench report — {folder.meta.get('scenario', folder.path.name)}"


def report_blocks(folder: RunFolder, tables: Tables, figures: dict[str, Path]) -> list[Block]:
    blocks: list[Block] = [Heading(title_of(folder), 1)]
    blocks += _incomplete_notice(folder)
    blocks += _header(folder, tables)
    blocks += _warnings(tables)
    blocks += _latency(tables)
    blocks += _efficiency(folder, tables)
    blocks += _saturation(folder, tables)
    blocks += simulation_blocks(folder.path, slo_of(folder.scenario)["operation"],
                                enabled=(folder.scenario.get("sim") or {}).get("enabled", True))
    blocks += invariant_blocks(folder.path)
    blocks += resilience_blocks(folder.path, architecture_order(folder.scenario.get("architectures", [])))
    blocks += scorecard_blocks(folder.path)
    blocks += coupling_blocks(folder.path / "audit")
    if figures:
        blocks.append(Heading("Figures"))
        blocks += [Image(path, caption) for caption, path in figures.items()]
    blocks += _method()
    return blocks


def _incomplete_notice(folder: RunFolder) -> list[Block]:
    if folder.complete:
        return []
    items = [f"run status: {folder.meta.get('status', 'unknown')}"]
    items += [f"{m.label}: not measured ({m.reason})" for m in folder.missing]
    items += [f"{r.label}: interrupted before the end of its measured period"
              for r in folder.runs if r.summary.get("interrupted") or r.info.get("status") == "incomplete"]
    return [Notice("INCOMPLETE RUN: the figures below cover only the runs that finished", items, "notice")]


def _header(folder: RunFolder, tables: Tables) -> list[Block]:
    meta, env = folder.meta, folder.environment
    warmup = folder.warmup_s
    machine = ", ".join(
        str(part) for part in (
            env.get("cpu"), f"{env['cores']} cores" if env.get("cores") else None,
            f"{env['memory_gib']} GiB" if env.get("memory_gib") else None,
            f"Python {env['python']}" if env.get("python") else None, env.get("platform"),
        ) if part
    ) or "unknown"
    runs = tables.runs
    items = [
        f"**Scenario**: {meta.get('scenario', 'unknown')}",
        f"**Date**: {meta.get('started_at', 'unknown')} → {meta.get('finished_at') or 'not finished'}",
        _durations(meta.get("duration_s"), warmup),
        f"**Machine**: {machine}",
        cpu_split_line(folder),
        f"**Git revision of the run**: `{env.get('git_revision', 'unknown')}`",
        f"**Runs measured**: {len(runs)} ({', '.join(architecture_order(set(runs['architecture'])))}; "
        f"{runs['repeat'].nunique()} repeat(s) {TIMES} {runs['step'].nunique()} step(s))"
        + (f"; {len(folder.missing)} missing" if folder.missing else ""),
    ]
    items += [f"Note: {note}" for note in folder.notes]
    for run in folder.runs:
        items += [f"Note ({run.label}): {note}" for note in run.notes]
    return [Bullets(items)]


def _durations(duration: Any, warmup: float | None) -> str:
    """The load's length per run, its warm-up (discarded) and what was measured."""
    if warmup is None or duration is None:
        return f"**Load duration**: {_num(duration)} s per run; warm-up unknown"
    return (f"**Measured**: {_num(float(duration) - warmup)} s per run, after a warm-up of "
            f"{_num(warmup)} s discarded ({_num(duration)} s of load)")


def _warnings(tables: Tables) -> list[Block]:
    warnings = bound_warnings(tables.steps)
    warnings += integrity_warnings(tables.summary, tables.runs, tables.aggregate)
    if warnings:
        return [Notice("WARNINGS: measurement integrity", warnings, "warning")]
    return [Paragraph(
        "Measurement integrity: no late starts, every open-loop run achieved ≥ "
        f"{ACHIEVED_FLOOR:.0%} of its offered rate, generator CPU ≤ {GENERATOR_CPU_CEILING:.0%}, "
        f"repeats agree within {REPEAT_P50_DISAGREEMENT:.0%} at p50, error rates ≤ {ERROR_RATE_CEILING:.0%}."
    )]


def _latency(tables: Tables) -> list[Block]:
    aggregate = tables.aggregate
    blocks: list[Block] = []
    if aggregate.empty:
        return [Heading("Latency"), Paragraph("No run finished: there is nothing to aggregate.")]
    for step in sorted(aggregate["step"].unique()):
        at_step = aggregate[aggregate["step"] == step]
        blocks.append(Heading("Latency" + _step_title(at_step, step)))
        blocks.append(Bullets(comparison_sentences(aggregate, step, tables)))
        rows = [
            flagged([row.architecture, row.operation, f"{row.count:.0f}",
                     *(_interval_cell(row, metric, tables) for metric in PERCENTILES),
                     _cell(row, "achieved_rate", 1), _cell(row, "error_rate", pct=True)], row)
            for row in at_step.itertuples(index=False)
        ]
        blocks.append(Table(
            ["architecture", "operation", "requests", *(f"{percentile_name(m)} ms" for m in PERCENTILES),
             "achieved req/s", "error rate"], rows,
        ))
        blocks += floor_blocks(at_step)
    return blocks


def _step_title(at_step: pd.DataFrame, step: int) -> str:
    rate = at_step["offered_rate"].iloc[0]
    return f" — step {step}" + (f", {rate:g} req/s offered" if pd.notna(rate) else "")


def _efficiency(folder: RunFolder, tables: Tables) -> list[Block]:
    steps = tables.steps
    if steps.empty:
        return []
    blocks: list[Block] = [Heading("Efficiency and operational overhead")]
    reference = architecture_order(set(steps["architecture"]))[0]
    sentences = []
    rows = []
    for row in steps.itertuples(index=False):
        cpu = estimate(row, "cpu_s_per_1k", tables)
        if row.architecture != reference:
            ref_rows = steps[(steps["architecture"] == reference) & (steps["step"] == row.step)]
            if not ref_rows.empty:
                ref = estimate(next(ref_rows.itertuples(index=False)), "cpu_s_per_1k", tables)
                sentences.append(f"{row.architecture} s{row.step}: CPU-seconds per 1,000 requests "
                                 f"{cpu.describe('s')}, {relative(cpu, ref, reference)}")
        rows.append(flagged([
            row.architecture, f"s{row.step}", _cell(row, "cpu_s_per_1k", 3),
            _pct(row.generator_cpu_share), _num(row.total_rss_mib), _num(row.processes),
            _num(row.cold_start_s, 2), _num(row.readlag_p50_ms, 2), _num(row.readlag_p99_ms, 2),
        ], row))
    if sentences:
        blocks.append(Bullets(sentences))
    blocks.append(Table(
        ["architecture", "step", "CPU-s / 1k requests", "generator CPU", "RSS MiB", "processes",
         "cold start s", "read lag p50 ms", "read lag p99 ms"], rows,
    ))
    blocks += _cpu_by_component(folder, steps)
    overhead = _overhead_rows(folder)
    if overhead:
        blocks.append(Table(["architecture", *(label for _, label in OVERHEAD_FIELDS)], overhead))
    return blocks


#: Infrastructure first, then each architecture's own processes (alphabetically), generator last.
_INFRASTRUCTURE = ("caddy", "postgres", "nats", "payment_provider")


def _cpu_by_component(folder: RunFolder, steps: pd.DataFrame) -> list[Block]:
    """Where a request's CPU goes: CPU-ms per request of each process of the deployment."""
    table = component_cpu_table(folder)
    bound = {(r.architecture, r.step) for r in steps.itertuples(index=False) if is_bound(r)}
    if table.empty:
        return []
    present = set(table["component"])
    own = sorted(present - set(_INFRASTRUCTURE) - {GENERATOR})
    columns = [c for c in _INFRASTRUCTURE if c in present] + own
    rows = []
    for (architecture, step), group in table.groupby(["architecture", "step"], sort=False):
        by = dict(zip(group["component"], group["cpu_ms_per_request"], strict=True))
        total = sum(v for c, v in by.items() if c != GENERATOR)
        rows.append(marked([architecture, f"s{step}",
                            *(_num(by.get(c), 3) if c in by else "" for c in columns),
                            _num(total, 3), _num(by.get(GENERATOR), 3) if GENERATOR in by else ""],
                           (architecture, step) in bound))
    return [
        Paragraph("CPU-milliseconds per request, by process (median over repeats; sampled once a "
                  "second and interpolated at the measured window's ends). The total is the "
                  "system under test; the generator is shown apart."),
        Table(["architecture", "step", *columns, "total", GENERATOR], rows),
    ]


def _overhead_rows(folder: RunFolder) -> list[list[str]]:
    by_architecture: dict[str, list[dict[str, Any]]] = {}
    for run in folder.runs:
        if run.overhead:
            by_architecture.setdefault(run.architecture, []).append(run.overhead)
    rows = []
    for architecture in architecture_order(set(by_architecture)):
        found = by_architecture[architecture]
        row = [architecture]
        for key, _ in OVERHEAD_FIELDS:
            values = [o.get(key) for o in found if o.get(key) is not None]
            if key == "infrastructure":
                row.append(", ".join(values[0]) if values and isinstance(values[0], list) else "—")
            else:
                row.append(_num(float(pd.Series(values, dtype=float).median())) if values else "—")
        rows.append(row)
    return rows


def _saturation(folder: RunFolder, tables: Tables) -> list[Block]:
    aggregate = tables.aggregate
    if aggregate.empty or aggregate["step"].nunique() < 2:
        return []
    slo = slo_of(folder.scenario)
    results = saturation(aggregate, slo)
    blocks: list[Block] = [
        Heading("Saturation"),
        Paragraph(f"SLO: {slo['operation']} p99 ≤ {slo['p99_ms']:g} ms (median of repeats) with achieved ≥ "
                  f"{ACHIEVED_FLOOR:.0%} of offered."),
    ]
    items = []
    rows = []
    bound = {(r.architecture, float(r.offered_rate)) for r in aggregate.itertuples(index=False)
             if is_bound(r)}
    for result in results:
        item = (f"{result.architecture}: saturation rate {result.rate:g} req/s" if result.rate is not None
                else f"{result.architecture}: no offered rate met the SLO")
        if result.unjudged:
            rates = ", ".join(f"{r:g}" for r in result.unjudged)
            item += f" (not judged at {rates} req/s: {TOO_FEW} for a p99)"
        if (result.architecture, result.rate) in bound:
            item = f"{WARN} {item} (generator-bound at that rate)"
        items.append(item)
        rows += [
            marked([result.architecture, f"{offered:g}", f"{achieved:.1f}",
                    TOO_FEW if math.isnan(p99) else f"{p99:.1f}",
                    TOO_FEW if met is None else "yes" if met else "no"],
                   (result.architecture, offered) in bound, keep=1)
            for offered, achieved, p99, met in result.steps
        ]
    blocks.append(Bullets(items))
    blocks.append(Table(["architecture", "offered req/s", "achieved req/s", f"{slo['operation']} p99 ms",
                         "meets SLO"], rows))
    return blocks


def _method() -> list[Block]:
    return [Heading("Method"), Bullets([
        "Percentiles come from HDR histograms (3 significant digits) of each run's whole measured period; "
        "the warm-up is discarded before recording. Open-loop latency counts from the intended send time.",
        "Each figure is the median across repeats. A latency percentile's `a [b-c]` is its "
        f"{CONFIDENCE:.0%} bootstrap interval: requests resampled within each run, repeats resampled "
        "across runs (harness/results/stats.py); other figures' `a (b-c)` is the min-max range across "
        "repeats.",
        "A percentile is given only when its runs recorded at least 10 / (1 - q) requests each (the median "
        "over repeats; p50: "
        f"{min_samples(0.5):,}, p90: {min_samples(0.9):,}, p99: {min_samples(0.99):,}, p99.9: "
        f"{min_samples(0.999):,}); below that it reads \"{TOO_FEW}\".",
        "A ratio against the reference architecture is given with the bootstrap interval of the ratio; "
        "it is \"not significant\" when that interval includes 1, and a single repeat is never judged.",
        "CPU-seconds per 1,000 requests: CPU of every process of the system under test (load generator "
        "excluded) over the measured period, divided by the requests sent (book_e2e not counted).",
        "Generator floor: before each run's load, the load generator sends GET /health through the "
        "gateway at a low fixed rate, on its own CPU; its p50 and p99 stand beside every latency table. "
        f"{generator_rule()[0].upper()}{generator_rule()[1:]}; its numbers carry {WARN}.",
        "Tables as CSV: `summary.csv` (per run and operation), `aggregate.csv` (across repeats).",
    ])]


def _interval_cell(row: Any, metric: str, tables: Tables) -> str:
    """'12.3 [11.9-12.8]', 'n too small', or the bare figure when it has no interval."""
    return estimate(row, metric, tables).figure()


def _cell(row: Any, metric: str, digits: int | None = None, pct: bool = False) -> str:
    value, low, high = getattr(row, metric), getattr(row, f"{metric}_min"), getattr(row, f"{metric}_max")
    fmt = _pct if pct else (lambda v: _num(v, digits))
    if row.repeats < 2 or (math.isnan(low) and math.isnan(high)):
        return fmt(value)
    return f"{fmt(value)} ({fmt(low)}{DASH}{fmt(high)})"


def _pct(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.1%}"


def _num(value: Any, digits: int | None = None) -> str:
    if value is None:
        return "n/a"
    value = float(value)
    if math.isnan(value):
        return "n/a"
    if digits is not None:
        return f"{value:.{digits}f}"
    if value == int(value) and abs(value) < 1e6:
        return f"{int(value)}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
