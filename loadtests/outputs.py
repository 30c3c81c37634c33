"""Writes one run's results: summary.json, histograms/<operation>.hdr, windows.csv."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtests.recorder import Recorder, percentiles_ms

E2E = "book_e2e"


@dataclass(frozen=True)
class RunInfo:
    model: str
    offered_rate: float | None
    warmup_s: float
    measured_until_s: float  # seconds after the load started when measuring stopped
    started_at: str
    finished_at: str
    generator_cpu_s: float
    interrupted: bool
    origin_epoch: float = 0.0  # wall-clock time of the load's origin, to align with the harness
    floor: dict[str, Any] | None = None  # the latency floor measured before the load (floor.py)


def write_trace(path: Path, trace: list[tuple[float, str, str, float]], origin_epoch: float) -> None:
    """requests.csv: one row per request in start order; `epoch_s` is its (intended) start on the
    wall clock, `error` is empty for a success."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch_s", "offset_s", "operation", "error", "latency_ms"])
        for offset, op, kind, latency in sorted(trace):
            writer.writerow([f"{origin_epoch + offset:.6f}", f"{offset:.6f}", op, kind,
                             f"{latency * 1000:.3f}"])


def summary(recorder: Recorder, info: RunInfo) -> dict[str, Any]:
    measured_s = max(0.0, min(info.measured_until_s, recorder.duration_s) - info.warmup_s)
    requests = recorder.requests()
    completed = sum(n for op, n in recorder.completed_in_period.items() if op != E2E)
    result: dict[str, Any] = {
        "model": info.model,
        "offered_rate": info.offered_rate,
        "achieved_rate": round(completed / measured_s, 3) if measured_s > 0 else 0.0,
        "measured_s": round(measured_s, 3),
        "warmup_s": info.warmup_s,
        "requests": requests,
        "errors": {op: dict(kinds) for op, kinds in recorder.errors.items() if kinds},
        "arrivals": recorder.arrivals,
        "late_starts": recorder.late_starts,
        "late_starts_pool_full": recorder.late_starts_pool_full,
        "lag_ms": recorder.lag_ms(),
        "generator_cpu_s": round(info.generator_cpu_s, 3),
        "generator_cpu_share": round(info.generator_cpu_s / measured_s, 4) if measured_s > 0 else 0.0,
        "percentiles_ms": {op: percentiles_ms(recorder.histograms[op]) for op in recorder.operations()
                           if op in recorder.histograms},
        "started_at": info.started_at,
        "finished_at": info.finished_at,
    }
    if info.floor is not None:
        result["floor"] = info.floor
    if info.interrupted:
        result["interrupted"] = True
    return result


def write_outputs(out_dir: Path, recorder: Recorder, info: RunInfo) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    histograms = out_dir / "histograms"
    histograms.mkdir(exist_ok=True)
    for op, histogram in recorder.histograms.items():
        (histograms / f"{op}.hdr").write_text(histogram.encode().decode("ascii") + "\n")
    with (out_dir / "windows.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["window_start_s", "operation", "count", "errors", "p50_ms", "p90_ms", "p99_ms"])
        for row in recorder.window_rows(info.measured_until_s):
            writer.writerow([row.window_start_s, row.operation, row.count, row.errors,
                             *("" if v is None else v for v in (row.p50_ms, row.p90_ms, row.p99_ms))])
    if recorder.trace is not None:
        write_trace(out_dir / "requests.csv", recorder.trace, info.origin_epoch)
    (out_dir / "summary.json").write_text(json.dumps(summary(recorder, info), indent=2) + "\n")
