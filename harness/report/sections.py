"""The report's content, section by section, as render blocks built from the computed tables."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from harness.report.coupling import coupling_blocks, scorecard_blocks
from harness.report.render import Block, Bullets, Heading, Image, Notice, Paragraph, Table
from harness.report.resilience import invariant_blocks, resilience_blocks
from harness.report.simulation import simulation_blocks
from harness.results.findings import (
    ACHIEVED_FLOOR,
    ERROR_RATE_CEILING,
    GENERATOR_CPU_CEILING,
    REPEAT_P50_DISAGREEMENT,
    comparison_sentences,
    estimate,
    integrity_warnings,
    saturation,
    slo_of,
)
from harness.results.rundir import RunFolder
from harness.results.spread import DASH, TIMES, relative
from harness.results.summary import Tables, architecture_order

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
        f"**Measured duration**: {_num(meta.get('duration_s'))} s per run; "
        + (f"warm-up of {_num(warmup)} s discarded" if warmup is not None else "warm-up unknown"),
        f"**Machine**: {machine}",
        f"**Git revision**: `{env.get('git_revision', 'unknown')}`",
        f"**Runs measured**: {len(runs)} ({', '.join(architecture_order(set(runs['architecture'])))}; "
        f"{runs['repeat'].nunique()} repeat(s) {TIMES} {runs['step'].nunique()} step(s))"
        + (f"; {len(folder.missing)} missing" if folder.missing else ""),
    ]
    items += [f"Note: {note}" for note in folder.notes]
    for run in folder.runs:
        items += [f"Note ({run.label}): {note}" for note in run.notes]
    return [Bullets(items)]


def _warnings(tables: Tables) -> list[Block]:
    warnings = integrity_warnings(tables.summary, tables.runs, tables.aggregate)
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
        blocks.append(Bullets(comparison_sentences(aggregate, step)))
        rows = [
            [row.architecture, row.operation, f"{row.count:.0f}", _cell(row, "p50_ms"), _cell(row, "p99_ms"),
             _cell(row, "p999_ms"), _cell(row, "achieved_rate", 1), _cell(row, "error_rate", pct=True)]
            for row in at_step.itertuples(index=False)
        ]
        blocks.append(Table(
            ["architecture", "operation", "requests", "p50 ms", "p99 ms", "p99.9 ms", "achieved req/s",
             "error rate"], rows,
        ))
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
        cpu = estimate(row, "cpu_s_per_1k")
        if row.architecture != reference:
            ref_rows = steps[(steps["architecture"] == reference) & (steps["step"] == row.step)]
            if not ref_rows.empty:
                ref = estimate(next(ref_rows.itertuples(index=False)), "cpu_s_per_1k")
                sentences.append(f"{row.architecture} s{row.step}: CPU-seconds per 1,000 requests "
                                 f"{cpu.describe('s')}, {relative(cpu, ref, reference)}")
        rows.append([
            row.architecture, f"s{row.step}", _cell(row, "cpu_s_per_1k", 3),
            _pct(row.generator_cpu_share), _num(row.total_rss_mib), _num(row.processes),
            _num(row.cold_start_s, 2), _num(row.readlag_p50_ms, 2), _num(row.readlag_p99_ms, 2),
        ])
    if sentences:
        blocks.append(Bullets(sentences))
    blocks.append(Table(
        ["architecture", "step", "CPU-s / 1k requests", "generator CPU", "RSS MiB", "processes",
         "cold start s", "read lag p50 ms", "read lag p99 ms"], rows,
    ))
    overhead = _overhead_rows(folder)
    if overhead:
        blocks.append(Table(["architecture", *(label for _, label in OVERHEAD_FIELDS)], overhead))
    return blocks


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
    for result in results:
        items.append(
            f"{result.architecture}: saturation rate {result.rate:g} req/s" if result.rate is not None
            else f"{result.architecture}: no offered rate met the SLO"
        )
        rows += [
            [result.architecture, f"{offered:g}", f"{achieved:.1f}", f"{p99:.1f}", "yes" if met else "no"]
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
        "Each figure is the median across repeats; `a (b-c)` and `± x` give the min-max range across repeats "
        "(± is half that range).",
        "A ratio against the reference architecture is given as median ratio (lowest-highest ratio the two "
        "ranges allow); \"not significant\" when the ranges overlap.",
        "CPU-seconds per 1,000 requests: CPU of every process of the system under test (load generator "
        "excluded) over the measured period, divided by the requests sent (book_e2e not counted).",
        "Tables as CSV: `summary.csv` (per run and operation), `aggregate.csv` (across repeats).",
    ])]


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
