"""What each fault cost, from one run's files: `resilience.json`.

Inputs, all written by the run (harness/pipeline/run.py): `faults.json` (when each fault began and was
lifted, wall clock), `load/requests.csv` (every request: its intended start, operation, error,
latency), `backlog.csv` (JetStream consumer backlog, twice a second) and `readlag.csv` (every event
the read side applied: when it occurred and its lag). The last two exist for the microservices only.

Each fault is judged over its *segment*: from its start to the next fault's start (or the end of the
run), so that what one fault left behind is not charged to the next.

- **Blast radius**: failed requests per operation that started while the fault held (from its
  start until it was lifted), and those that started after it was lifted, within the segment.
- **Time to recover**: for each operation that failed in the segment, the time from the fault's
  end to the completion of its first success that started after both the end and its last
  failure; the fault's figure is the slowest operation, None when one never succeeded again
  within the segment, 0 when nothing failed.
- **Back to the pre-fault p99**: the p99 of every successful request except `book_e2e` (whose
  scale differs) in the calm before the fault (the `BEFORE_S` seconds before it, cut to after the
  warm-up and after the previous fault was lifted; no baseline with fewer than `MIN_BASELINE`
  requests); after the fault's end, the start of the first `BUCKET_S`-second bucket with at least
  `MIN_BUCKET` requests, no failure and a p99 at or under it, measured from the end.
- **Backlog**: the sum over consumers of messages pending and unacknowledged. Its level before the
  fault is the largest sum in the same calm window; the peak is the largest in the segment;
  drained is the first sample after both the peak and the fault's end at or under the level before,
  measured from the end.
- **Read lag**: p99 and maximum lag of events that occurred in the calm before, during, and in the
  `AFTER_S` seconds after the fault (cut at the next fault).

A request is charged to the fault in whose segment it started; for the time to recover, a failure
counts only if it also failed before the next fault began.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from harness.results.files import write_json_atomic

BEFORE_S = 10.0
AFTER_S = 10.0
BUCKET_S = 2.0
MIN_BUCKET = 5
MIN_BASELINE = 20  # successful requests before a fault needed for its p99 to be a baseline
BACKLOG_INTERVAL_S = 0.5  # how often the run samples the JetStream backlog
RESILIENCE_FILE = "resilience.json"


def analyse_run(folder: Path) -> dict[str, Any] | None:
    """Write and return `resilience.json` for one run folder; None when it had no fault."""
    faults_file = folder / "faults.json"
    if not faults_file.exists():
        return None
    recorded = json.loads(faults_file.read_text())
    faults = recorded.get("faults", [])
    if not faults:
        return None
    requests = read_requests(folder / "load" / "requests.csv")
    backlog = _backlog(folder / "backlog.csv")
    lag = _pairs(folder / "readlag.csv", "epoch_s", "lag_ms")
    origin = recorded.get("origin_epoch")
    load_end = max((r[0] for r in requests), default=math.inf)
    measured_from = (origin or -math.inf) + _warmup_s(folder)
    started = sorted((f for f in faults if f.get("started_epoch")), key=lambda f: f["started_epoch"])
    rows = []
    for fault in faults:
        row = {key: fault.get(key) for key in ("index", "action", "target", "at_s", "duration_s",
                                                "restart_s", "processes_killed",
                                                "processes_paused", "error")}
        begin = fault.get("started_epoch")
        if begin is None:
            rows.append({**row, "injected": False})
            continue
        later = [f["started_epoch"] for f in started if f["started_epoch"] > begin]
        segment_end = min([*later, load_end + 1e-6])
        end = min(fault.get("ended_epoch") or load_end, segment_end)
        earlier = [f.get("ended_epoch") or f["started_epoch"] for f in started
                   if f["started_epoch"] < begin]
        # the baseline: calm before the fault, after the warm-up and after the previous fault
        calm_from = max([begin - BEFORE_S, measured_from, *earlier])
        row.update(injected=True, lifted=fault.get("ended_epoch") is not None,
                   started_s=None if origin is None else round(begin - origin, 3),
                   held_s=round(end - begin, 3),
                   **_blast(requests, begin, end, segment_end),
                   **_recovery(requests, begin, end, segment_end, calm_from),
                   backlog=(_backlog_effect(backlog, begin, end, segment_end, calm_from)
                            if backlog else None),
                   read_lag=_lag_effect(lag, begin, end, segment_end, calm_from) if lag else None)
        rows.append(row)
    result = {"origin_epoch": origin, "faults": rows,
              "before_s": BEFORE_S, "after_s": AFTER_S, "bucket_s": BUCKET_S}
    write_json_atomic(folder / RESILIENCE_FILE, result)
    return result


def _warmup_s(folder: Path) -> float:
    """The run's warm-up, from the plan the load generator was given (0 when unknown)."""
    try:
        return float(json.loads((folder / "plan.json").read_text()).get("warmup_s", 0.0))
    except (OSError, ValueError):
        return 0.0


Request = tuple[float, str, str, float]  # start epoch, operation, error ("" = success), latency ms


def read_requests(path: Path) -> list[Request]:
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return [(float(r["epoch_s"]), r["operation"], r["error"], float(r["latency_ms"]))
                for r in csv.DictReader(f)]


def _backlog(path: Path) -> list[tuple[float, int]]:
    """(time, pending + unacknowledged summed over consumers), one per sample."""
    totals: dict[float, int] = defaultdict(int)
    if path.exists():
        with path.open(newline="") as f:
            for r in csv.DictReader(f):
                totals[float(r["epoch_s"])] += int(r["num_pending"]) + int(r["num_ack_pending"])
    return sorted(totals.items())


def _pairs(path: Path, x: str, y: str) -> list[tuple[float, float]]:
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return [(float(r[x]), float(r[y])) for r in csv.DictReader(f)]


def _count_failures(requests: list[Request], begin: float, end: float) -> dict[str, int]:
    """Failures per operation among requests that started in [begin, end)."""
    failed: dict[str, int] = defaultdict(int)
    for at, op, error, _ in requests:
        if begin <= at < end and error:
            failed[op] += 1
    return dict(sorted(failed.items()))


def _blast(requests: list[Request], begin: float, end: float, segment_end: float) -> dict[str, Any]:
    failed_during = _count_failures(requests, begin, end)
    failed_after = _count_failures(requests, end, segment_end)
    return {"requests_during": sum(1 for r in requests if begin <= r[0] < end),
            "failed_during": failed_during, "failed_after": failed_after,
            "failed_total": sum(failed_during.values()) + sum(failed_after.values())}


def p99(values: list[float]) -> float | None:
    """The 99th percentile by the nearest-rank rule (the smallest value with 99% at or below)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


def _recovery(requests: list[Request], begin: float, end: float, segment_end: float,
              calm_from: float) -> dict[str, Any]:
    # a failure is this fault's if it started in its segment and failed before the next fault
    last_failure: dict[str, float] = {}
    for at, op, error, latency in requests:
        if begin <= at < segment_end and error and at + latency / 1000 < segment_end:
            last_failure[op] = max(at, last_failure.get(op, at))
    first_ok: dict[str, float | None] = {}
    for op, failed_at in sorted(last_failure.items()):
        since = max(end, failed_at)
        done = [at + latency / 1000 for at, name, error, latency in requests
                if name == op and not error and since <= at < segment_end]
        first_ok[op] = round(min(done) - end, 3) if done else None
    values = list(first_ok.values())
    recovery = 0.0 if not values else (None if None in values else max(v for v in values if v is not None))
    before = [lat for at, op, error, lat in requests
              if calm_from <= at < begin and not error and op != "book_e2e"]
    baseline = p99(before) if len(before) >= MIN_BASELINE else None
    back_at = None
    if baseline is not None:
        bucket = end
        while bucket + BUCKET_S <= segment_end:
            inside = [r for r in requests if bucket <= r[0] < bucket + BUCKET_S and r[1] != "book_e2e"]
            value = p99([r[3] for r in inside])
            if len(inside) >= MIN_BUCKET and not any(r[2] for r in inside) and value is not None \
                    and value <= baseline:
                back_at = round(bucket - end, 3)
                break
            bucket += BUCKET_S
    return {"recovery_s": recovery, "first_success_s": first_ok, "p99_before_ms": baseline,
            "p99_before_samples": len(before), "p99_recovered_s": back_at}


def _backlog_effect(backlog: list[tuple[float, int]], begin: float, end: float,
                    segment_end: float, calm_from: float) -> dict[str, Any]:
    level = max((n for at, n in backlog if calm_from <= at < begin), default=0)
    inside = [(at, n) for at, n in backlog if begin <= at < segment_end]
    if not inside:
        return {"before": level, "peak": None, "peak_after_s": None, "drained_s": None}
    peak_at, peak = max(inside, key=lambda s: (s[1], -s[0]))
    drained = next((at for at, n in inside if at >= max(peak_at, end) and n <= level), None)
    return {"before": level, "peak": peak, "peak_after_s": round(peak_at - begin, 3),
            "drained_s": None if drained is None else round(max(0.0, drained - end), 3),
            "broker_samples_missing": _gaps(inside, begin, segment_end)}


def _gaps(samples: list[tuple[float, int]], begin: float, segment_end: float,
          interval: float = BACKLOG_INTERVAL_S) -> float:
    """Seconds of the segment with no backlog sample (the broker did not answer)."""
    times = [begin, *(at for at, _ in samples), segment_end]
    return round(sum(max(0.0, b - a - 2 * interval) for a, b in itertools.pairwise(times)), 3)


def _lag_effect(lag: list[tuple[float, float]], begin: float, end: float, segment_end: float,
                calm_from: float) -> dict[str, Any]:
    def summary(lo: float, hi: float) -> dict[str, Any]:
        values = [ms for at, ms in lag if lo <= at < hi]
        return {"events": len(values), "p99_ms": p99(values), "max_ms": max(values, default=None)}

    return {"before": summary(calm_from, begin), "during": summary(begin, end),
            "after": summary(end, min(end + AFTER_S, segment_end))}


def analyse(run_dir: Path) -> list[dict[str, Any]]:
    """Every run of a run folder that had faults: [{architecture, repeat, step, path, ...}]."""
    state = json.loads((run_dir / "run.json").read_text())
    found = []
    for run in state.get("runs", []):
        result = analyse_run(run_dir / run["path"])
        if result is not None:
            found.append({**{k: run[k] for k in ("architecture", "repeat", "step", "path")},
                          **result})
    return found
