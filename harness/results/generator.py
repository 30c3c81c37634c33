"""What the load generator says about itself, per run: its latency floor (GET /health just before
the load) and whether it was saturated, in which case the run is *generator-bound* and its numbers
may measure the generator as much as the system.

A run is generator-bound when its generator used at least `CPU_SHARE_LIMIT` of a CPU, or when more
than `LATE_FRACTION_LIMIT` of its open-loop arrivals started over 10 ms late for a reason of its
own: late starts of arrivals that found every slot of the pool taken are the system holding
`max_concurrency` requests (latency still counts from the intended time), not the generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: gevent runs the generator on one thread, so one CPU is all it can ever use; past 80% of it the
#: hub's timers fire late and answers are read late, which shows up as latency (Locust itself
#: warns at 90%, by which point the numbers are already skewed).
CPU_SHARE_LIMIT = 0.80
#: The report leads with p99: once more than 1% of arrivals start over 10 ms late, the p99 itself
#: may be the generator's lag rather than the system's latency.
LATE_FRACTION_LIMIT = 0.01
LATE_START_MS = 10  # what the generator counts as a late start (loadtests.recorder.LATE_START_S)

WARN = "\N{WARNING SIGN}"  # marks every number from a generator-bound run
FLOOR_COLUMNS = ["floor_p50_ms", "floor_p99_ms"]
GENERATOR_COLUMNS = [*FLOOR_COLUMNS, "generator_bound", "generator_bound_reason"]
NOT_A_REQUEST = {"book_e2e"}


@dataclass(frozen=True)
class Verdict:
    bound: bool
    reason: str  # empty when not bound


def judge(summary: dict[str, Any]) -> Verdict:
    """Was this run's generator saturated? From its load/summary.json."""
    reasons = []
    share = _float(summary.get("generator_cpu_share"))
    if share >= CPU_SHARE_LIMIT:
        reasons.append(f"generator CPU {share:.0%} of one CPU (≥ {CPU_SHARE_LIMIT:.0%})")
    if summary.get("model", "open") == "open":
        late = _float(summary.get("late_starts")) - _float(summary.get("late_starts_pool_full"), 0.0)
        arrivals = _float(summary.get("arrivals"), _requests(summary))
        if late > 0 and arrivals > 0 and late / arrivals > LATE_FRACTION_LIMIT:
            unknown = "late_starts_pool_full" not in summary
            reasons.append(f"{late / arrivals:.1%} of arrivals started > {LATE_START_MS} ms late "
                           f"(> {LATE_FRACTION_LIMIT:.0%})"
                           + (", some perhaps behind a full pool: not counted apart then"
                              if unknown else ""))
    return Verdict(bool(reasons), "; ".join(reasons))


def is_bound(row: Any) -> bool:
    """Whether a table row (a namedtuple of summary, aggregate or steps) is generator-bound."""
    value = getattr(row, "generator_bound", False)
    return isinstance(value, bool | np.bool_) and bool(value)


def generator_columns(summary: dict[str, Any]) -> dict[str, Any]:
    """The generator's columns of a run's rows in summary.csv: floor and verdict."""
    floor = summary.get("floor") if isinstance(summary.get("floor"), dict) else {}
    verdict = judge(summary)
    return {"floor_p50_ms": _float(floor.get("p50_ms")), "floor_p99_ms": _float(floor.get("p99_ms")),
            "generator_bound": verdict.bound, "generator_bound_reason": verdict.reason}


def generator_per_step(frame: pd.DataFrame) -> pd.DataFrame:
    """Across the repeats of each architecture x step (one row per run, or per run and operation):
    the floor's medians, and generator-bound if any repeat was, with each bound repeat's reason."""
    keys = ["architecture", "step"]
    columns = [*keys, *GENERATOR_COLUMNS]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    runs = frame.drop_duplicates(["architecture", "step", "repeat"])
    rows = []
    for (architecture, step), group in runs.groupby(keys, sort=False):
        bound = group[group["generator_bound"].astype(bool)]
        rows.append({
            "architecture": architecture, "step": step,
            "floor_p50_ms": group["floor_p50_ms"].median(),
            "floor_p99_ms": group["floor_p99_ms"].median(),
            "generator_bound": not bound.empty,
            "generator_bound_reason": "; ".join(f"r{r.repeat}: {r.generator_bound_reason}"
                                                for r in bound.itertuples(index=False)),
        })
    return pd.DataFrame(rows, columns=columns)


def _requests(summary: dict[str, Any]) -> float:
    """Arrivals as a summary.json from before `arrivals` counts them: the requests completed."""
    requests = summary.get("requests") or {}
    return float(sum(int(n) for op, n in requests.items() if op not in NOT_A_REQUEST))


def _float(value: Any, default: float = math.nan) -> float:
    if value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default
