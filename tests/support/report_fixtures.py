"""A synthetic run folder, laid out as the runner writes one, with plausible numbers and real
HdrHistogram files, so that report tests know every expected value exactly."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any

import yaml
from hdrh.histogram import HdrHistogram

OPERATIONS = (
    "search_availability", "list_hotels", "book", "book_e2e", "view_booking", "list_customer_bookings",
    "cancel",
)
BASE_P50_MS = {
    "search_availability": 4.0, "list_hotels": 3.0, "book": 12.0, "book_e2e": 20.0, "view_booking": 2.5,
    "list_customer_bookings": 3.5, "cancel": 10.0,
}
MIX = {  # share of the offered rate; book_e2e is the client's view of each `book`
    "search_availability": 0.4, "list_hotels": 0.1, "book": 0.2, "book_e2e": 0.2, "view_booking": 0.15,
    "list_customer_bookings": 0.1, "cancel": 0.05,
}
SIGMA = 0.5  # log-normal shape: p99 = p50 x e^(0.5 x 2.326), about 3.2 x p50
COMPONENTS = {
    "monolith": {"postgres": 0.08, "caddy": 0.03, "payment_provider": 0.02, "monolith": 0.25},
    "microservices": {
        "postgres": 0.15, "caddy": 0.03, "payment_provider": 0.02, "nats": 0.05, "booking": 0.12,
        "inventory": 0.1, "payment": 0.06, "notification": 0.04, "query": 0.09,
    },
}
GENERATOR_CPU_RATE = 0.3
EPOCH = 1_800_000_000.0

Coords = tuple[str, int, int]
LatencyModel = Callable[[str, int, int, str], float]
Tweak = Callable[[str, int, int, dict[str, Any]], None]


def default_latency(
    scale: dict[str, float], jitter: tuple[float, ...]
) -> LatencyModel:
    def p50_ms(architecture: str, repeat: int, step: int, operation: str) -> float:
        spread = jitter[repeat % len(jitter)]
        return BASE_P50_MS[operation] * scale.get(architecture, 1.0) * spread * (1 + step)

    return p50_ms


@dataclass
class SyntheticRun:
    root: Path
    architectures: tuple[str, ...]
    repeats: int
    rates: tuple[float, ...]
    duration_s: float
    warmup_s: float
    samples_us: dict[tuple[str, int, int, str], list[int]] = field(default_factory=dict)
    cpu_per_1k: dict[Coords, float] = field(default_factory=dict)

    def run_dir(self, architecture: str, repeat: int, step: int) -> Path:
        return self.root / "runs" / architecture / f"r{repeat}" / f"s{step}"

    def percentile_ms(self, architecture: str, repeat: int, step: int, operation: str, pct: float) -> float:
        """The exact percentile of the values recorded, in ms, at the rank HdrHistogram uses
        (percentile x count, rounded half up)."""
        values = sorted(self.samples_us[(architecture, repeat, step, operation)])
        rank = max(1, int(pct / 100 * len(values) + 0.5))
        return values[rank - 1] / 1000


def build_run_folder(
    root: Path,
    *,
    architectures: tuple[str, ...] = ("monolith", "microservices"),
    repeats: int = 3,
    rates: tuple[float, ...] = (50.0,),
    scale: dict[str, float] | None = None,
    jitter: tuple[float, ...] = (1.0, 1.03, 0.97),
    latency: LatencyModel | None = None,
    achieved_share: float = 1.0,
    duration_s: float = 60.0,
    warmup_s: float = 10.0,
    status: str = "complete",
    missing: tuple[Coords, ...] = (),
    tweak: Tweak | None = None,
    slo: dict[str, Any] | None = None,
) -> SyntheticRun:
    """Write a run folder under root; `tweak` may change each run's load/summary.json before it is
    written (to plant late starts, errors, ...); runs in `missing` get no load/summary.json."""
    root.mkdir(parents=True, exist_ok=True)
    latency = latency or default_latency(scale or {"monolith": 1.0, "microservices": 2.5}, jitter)
    synthetic = SyntheticRun(root, architectures, repeats, rates, duration_s, warmup_s)
    planned = []
    start = EPOCH
    for repeat in range(repeats):
        for step, rate in enumerate(rates):
            for architecture in architectures:
                planned.append({"architecture": architecture, "repeat": repeat, "step": step,
                                "path": f"runs/{architecture}/r{repeat}/s{step}"})
                _write_run(synthetic, architecture, repeat, step, rate, start, latency, achieved_share, tweak,
                           write_summary=(architecture, repeat, step) not in missing)
                start += warmup_s + duration_s + 30
    _dump(root / "run.json", {
        "status": status, "scenario": "quickstart", "started_at": "2027-01-05T10:00:00+00:00",
        "finished_at": "2027-01-05T10:40:00+00:00" if status == "complete" else None,
        "runs": planned, "warmup_s": warmup_s, "duration_s": duration_s,
    })
    scenario: dict[str, Any] = {
        "name": "quickstart", "architectures": list(architectures), "repeats": repeats,
        "load": {"model": "open", "rates": list(rates)},
    }
    if slo is not None:
        scenario["slo"] = slo
    (root / "scenario.yaml").write_text(yaml.safe_dump(scenario))
    _dump(root / "environment.json", {
        "cpu": "Synthetic CPU @ 3.0GHz", "cores": 8, "memory_gib": 16, "python": "3.11.7",
        "platform": "Linux-6.1-x86_64", "git_revision": "abc1234", "packages": {"locust": "2.31.0"},
    })
    return synthetic


def _write_run(
    synthetic: SyntheticRun, architecture: str, repeat: int, step: int, rate: float, start: float,
    latency: LatencyModel, achieved_share: float, tweak: Tweak | None, write_summary: bool,
) -> None:
    run_dir = synthetic.run_dir(architecture, repeat, step)
    (run_dir / "load" / "histograms").mkdir(parents=True, exist_ok=True)
    duration = synthetic.duration_s
    measured_from = start + synthetic.warmup_s
    measured_to = measured_from + duration
    achieved = rate * achieved_share
    _dump(run_dir / "info.json", {
        "architecture": architecture, "repeat": repeat, "step": step, "model": "open", "offered_rate": rate,
        "users": None, "measured_from": measured_from, "measured_to": measured_to, "status": "complete",
    })
    requests = {op: round(achieved * duration * MIX[op]) for op in OPERATIONS}
    percentiles = {}
    for op in OPERATIONS:
        p50 = latency(architecture, repeat, step, op)
        samples = _lognormal_us(p50, requests[op])
        synthetic.samples_us[(architecture, repeat, step, op)] = samples
        histogram = HdrHistogram(1, 60_000_000, 3)
        for value in samples:
            histogram.record_value(value)
        (run_dir / "load" / "histograms" / f"{op}.hdr").write_bytes(histogram.encode())
        percentiles[op] = {
            name: histogram.get_value_at_percentile(pct) / 1000
            for name, pct in (("p50", 50), ("p90", 90), ("p99", 99), ("p999", 99.9))
        } | {"max": histogram.get_max_value() / 1000, "mean": sum(samples) / len(samples) / 1000}
    _write_windows(run_dir, architecture, repeat, step, requests, duration, latency)
    components = COMPONENTS.get(architecture, {"app": 0.2})
    _write_metrics(run_dir, components, measured_from, measured_to)
    sut_cpu = sum(components.values()) * duration
    synthetic.cpu_per_1k[(architecture, repeat, step)] = (
        sut_cpu / sum(n for op, n in requests.items() if op != "book_e2e") * 1000
    )
    summary: dict[str, Any] = {
        "model": "open", "offered_rate": rate, "achieved_rate": achieved, "measured_s": duration,
        "warmup_s": synthetic.warmup_s, "requests": requests, "errors": {}, "late_starts": 0,
        "lag_ms": {"p99": 0.4, "max": 1.2}, "generator_cpu_s": GENERATOR_CPU_RATE * duration,
        "generator_cpu_share": GENERATOR_CPU_RATE, "percentiles_ms": percentiles,
    }
    if tweak is not None:
        tweak(architecture, repeat, step, summary)
    if write_summary:
        _dump(run_dir / "load" / "summary.json", summary)
    micro = architecture == "microservices"
    _dump(run_dir / "overhead.json", {
        "deployables": 5 if micro else 1, "processes": len(components), "databases": 5 if micro else 1,
        "ports": len(components) + 1, "infrastructure": ["postgres", "caddy", "nats"] if micro else
        ["postgres", "caddy"], "total_rss_mib": 40.0 * len(components), "cold_start_s": 4.5 if micro else 2.0,
        "config_lines": 120 if micro else 35,
    })
    if micro:
        _dump(run_dir / "readlag.json", {"count": requests["book"], "p50_ms": 3.1, "p99_ms": 12.5,
                                         "max_ms": 30.0})


def _lognormal_us(p50_ms: float, n: int) -> list[int]:
    """n deterministic log-normal latencies (quantiles, not random draws) with median p50_ms."""
    normal = NormalDist()
    return [max(1, round(p50_ms * 1000 * math.exp(SIGMA * normal.inv_cdf((i + 0.5) / n)))) for i in range(n)]


def _write_windows(
    run_dir: Path, architecture: str, repeat: int, step: int, requests: dict[str, int], duration: float,
    latency: LatencyModel,
) -> None:
    width = 5.0
    count = int(duration // width)
    lines = ["window_start_s,operation,count,errors,p50_ms,p90_ms,p99_ms"]
    for w in range(count):
        for op in OPERATIONS:
            p50 = latency(architecture, repeat, step, op) * (1 + 0.05 * math.sin(w))
            lines.append(f"{w * width},{op},{requests[op] // count},0,{p50:.3f},"
                         f"{p50 * math.exp(SIGMA * 1.2816):.3f},{p50 * math.exp(SIGMA * 2.3263):.3f}")
    (run_dir / "load" / "windows.csv").write_text("\n".join(lines) + "\n")


def _write_metrics(
    run_dir: Path, components: dict[str, float], measured_from: float, measured_to: float
) -> None:
    """1 Hz samples from 3 s before to 3 s after the measured period; CPU grows linearly, so the CPU
    within the period is exactly rate x duration."""
    lines = ["t,component,cpu_s,rss_bytes"]
    t = measured_from - 3
    while t <= measured_to + 3:
        for name, cpu_rate in {**components, "generator": GENERATOR_CPU_RATE}.items():
            cpu = 1.5 + cpu_rate * (t - measured_from + 3)
            lines.append(f"{t:.1f},{name},{cpu:.6f},{40 * 2**20}")
        t += 1.0
    (run_dir / "metrics.csv").write_text("\n".join(lines) + "\n")


def _dump(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2))
