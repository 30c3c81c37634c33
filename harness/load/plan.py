"""What the load generator (loadtests, its own process) is told for one run, and the measured
window it reports back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from harness.config.scenario import Scenario

#: The latency floor's probe (loadtests/floor.py), before every run's load: GET /health through the
#: gateway at 100 req/s, a load that leaves the system idle, for 3 s of which the first 0.5 s
#: (connections opening) are dropped: 250 samples, enough to support a p99.
FLOOR_PROBE = {"path": "/health", "rate": 100.0, "duration_s": 3.0, "warmup_s": 0.5}


def load_plan(scenario: Scenario, level: float) -> dict[str, Any]:
    """What the load generator (loadtests) is told to do for one run."""
    load = scenario.load
    return {
        "model": load.model, "arrival": load.arrival,
        "rate": level if load.model == "open" else load.rate,
        "users": int(level) if load.model == "closed" else load.users,
        "think_time_s": list(load.think_time_s),
        "duration_s": scenario.duration_s, "warmup_s": scenario.warmup_s,
        "window_s": scenario.window_s, "weights": dict(scenario.workload.weights),
        "seed": scenario.seed, "poll_interval_s": scenario.workload.poll_interval_s,
        "poll_wait_s": scenario.workload.poll_wait_s,
        "max_concurrency": load.max_concurrency, "floor": dict(FLOOR_PROBE),
        "dataset": {
            "hotels": scenario.dataset.hotels,
            "room_types_per_hotel": scenario.dataset.room_types_per_hotel,
            "start_date": scenario.dataset.start_date.isoformat(),
            "horizon_days": scenario.dataset.horizon_days,
        },
    }


def measured_window(summary: dict[str, Any], started: float,
                    scenario: Scenario) -> tuple[float, float]:
    """Epoch seconds of the measured period (after warm-up), from the generator's own clock."""
    begin = started
    if summary.get("started_at"):
        begin = datetime.fromisoformat(summary["started_at"]).timestamp()
    measured_s = float(summary.get("measured_s") or (scenario.duration_s - scenario.warmup_s))
    return begin + scenario.warmup_s, begin + scenario.warmup_s + measured_s


