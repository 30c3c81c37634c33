"""The per-fault measures (harness/results/resilience.py) on synthetic run files whose answers are known."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from harness.results.resilience import analyse, analyse_run

T0 = 1_800_000_000.0  # the load's origin on the wall clock


def _requests(folder: Path, rows: list[tuple[float, str, str, float]]) -> None:
    (folder / "load").mkdir(parents=True, exist_ok=True)
    with (folder / "load" / "requests.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch_s", "offset_s", "operation", "error", "latency_ms"])
        for offset, op, error, latency in rows:
            writer.writerow([T0 + offset, offset, op, error, latency])


def _faults(folder: Path, faults: list[dict]) -> None:
    base = {"duration_s": 2, "restart_s": 0.5, "processes_killed": 1, "error": None}
    (folder / "faults.json").write_text(json.dumps({"origin_epoch": T0, "faults": [
        {**base, "index": i, **f} for i, f in enumerate(faults)]}))


def _steady(start: float, end: float, *, op: str = "search_availability", latency: float = 10.0,
            every: float = 0.1) -> list[tuple[float, str, str, float]]:
    count = round((end - start) / every)
    return [(start + i * every, op, "", latency) for i in range(count)]


@pytest.fixture
def killed_run(tmp_path: Path) -> Path:
    """A process killed at 20 s for 2 s: searches keep working, bookings fail while it is down and
    come back slowly; the backlog rises to 40 and drains 3 s after the end."""
    rows = _steady(0, 40)  # searches at 10 ms, never failing
    rows += [(t, "book", "", 20.0) for t in (5.0, 10.0, 15.0, 19.0)]
    rows += [(20.5, "book", "http_502", 1.0), (21.0, "book", "http_502", 1.0),
             (21.9, "cancel", "http_502", 1.0)]
    rows += [(22.5, "book", "", 200.0), (23.0, "cancel", "", 50.0)]  # first successes after
    rows += [(25.0, "book", "http_502", 1.0)]  # a failure after the fault was lifted
    rows += [(27.0, "book", "", 20.0)]  # the first booking that works after that
    _requests(tmp_path, rows)
    _faults(tmp_path, [{"action": "kill", "target": "booking", "at_s": 20,
                        "started_epoch": T0 + 20, "ended_epoch": T0 + 22}])
    with (tmp_path / "backlog.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch_s", "consumer", "num_pending", "num_ack_pending", "num_redelivered"])
        for i in range(80):
            at = T0 + i * 0.5
            level = 40 if 20 <= i * 0.5 < 25 else 2
            writer.writerow([at, "BOOKING/query-from-booking", level - 1, 1, 0])
            writer.writerow([at, "BOOKING/payment-from-booking", 0, 0, 0])
    with (tmp_path / "readlag.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch_s", "lag_ms"])
        for i in range(40):
            writer.writerow([T0 + i, 3000.0 if 20 <= i < 25 else 20.0])
    return tmp_path


def test_blast_radius_counts_failures_per_operation_during_and_after_the_fault(killed_run: Path) -> None:
    fault = analyse_run(killed_run)["faults"][0]
    assert fault["failed_during"] == {"book": 2, "cancel": 1}
    assert fault["failed_after"] == {"book": 1}
    assert fault["failed_total"] == 4
    assert fault["held_s"] == 2.0
    # searches every 0.1 s from 20.0 s up to 22.0 s (excluded), and the three failures
    assert fault["requests_during"] == 20 + 3


def test_recovery_is_the_first_success_of_every_failed_operation(killed_run: Path) -> None:
    fault = analyse_run(killed_run)["faults"][0]
    # book failed again at 25 s: its recovery is the success started at 27 s (+20 ms) -> 5.02 s
    # after the end at 22 s; cancel: started 23.0, took 50 ms -> 1.05 s
    assert fault["first_success_s"] == {"book": 5.02, "cancel": 1.05}
    assert fault["recovery_s"] == 5.02
    # before: 100 searches at 10 ms and 3 bookings at 20 ms: the p99 is a booking's
    assert fault["p99_before_ms"] == 20.0
    # the windows [22, 24) and [24, 26) hold a 200 ms booking or a failure; [26, 28) is clean
    assert fault["p99_recovered_s"] == 4.0


def test_backlog_peak_and_drain_and_read_lag_around_the_fault(killed_run: Path) -> None:
    fault = analyse_run(killed_run)["faults"][0]
    backlog = fault["backlog"]
    assert backlog["before"] == 2 and backlog["peak"] == 40
    assert backlog["peak_after_s"] == 0.0
    assert backlog["drained_s"] == 3.0  # back to 2 at 25 s, 3 s after the end at 22 s
    assert backlog["broker_samples_missing"] == 0.0
    lag = fault["read_lag"]
    assert lag["before"]["p99_ms"] == 20.0
    assert lag["during"] == {"events": 2, "p99_ms": 3000.0, "max_ms": 3000.0}
    assert lag["after"]["max_ms"] == 3000.0 and lag["after"]["events"] == 10


def test_a_fault_never_recovered_from_says_so(tmp_path: Path) -> None:
    rows = _steady(0, 20) + [(t, "book", "http_502", 1.0) for t in (12.0, 15.0, 18.0)]
    _requests(tmp_path, rows)
    _faults(tmp_path, [{"action": "kill", "target": "monolith", "at_s": 10,
                        "started_epoch": T0 + 10, "ended_epoch": T0 + 11}])
    fault = analyse_run(tmp_path)["faults"][0]
    assert fault["failed_after"] == {"book": 3}
    assert fault["recovery_s"] is None and fault["first_success_s"] == {"book": None}
    assert fault["backlog"] is None and fault["read_lag"] is None  # no broker: the monolith


def test_each_fault_is_judged_up_to_the_next_one_and_a_fault_never_injected_is_marked(
        tmp_path: Path) -> None:
    rows = [*_steady(0, 30), (12.5, "book", "http_502", 1.0), (21.0, "book", "http_502", 1.0)]
    _requests(tmp_path, rows)
    _faults(tmp_path, [
        {"action": "kill", "target": "inventory", "at_s": 10, "started_epoch": T0 + 10,
         "ended_epoch": T0 + 12},
        {"action": "pause", "target": "query", "at_s": 20, "started_epoch": T0 + 20,
         "ended_epoch": T0 + 22},
        {"action": "kill", "target": "nats", "at_s": 25, "started_epoch": None,
         "ended_epoch": None, "error": "HarnessError: nats is not running"},
    ])
    first, second, third = analyse_run(tmp_path)["faults"]
    assert first["failed_after"] == {"book": 1} and second["failed_during"] == {"book": 1}
    assert third["injected"] is False and third["error"].startswith("HarnessError")


def test_a_run_folder_lists_only_runs_with_faults(killed_run: Path) -> None:
    root = killed_run / "run"
    (root / "runs" / "monolith" / "r0" / "s0").mkdir(parents=True)
    faulted = root / "runs" / "microservices" / "r0" / "s0"
    faulted.mkdir(parents=True)
    for name in ("faults.json", "backlog.csv", "readlag.csv", "load"):
        (killed_run / name).rename(faulted / name)
    (root / "run.json").write_text(json.dumps({"runs": [
        {"architecture": "monolith", "repeat": 0, "step": 0, "path": "runs/monolith/r0/s0"},
        {"architecture": "microservices", "repeat": 0, "step": 0,
         "path": "runs/microservices/r0/s0"}]}))
    found = analyse(root)
    assert [r["architecture"] for r in found] == ["microservices"]
    assert (faulted / "resilience.json").is_file()
    assert found[0]["faults"][0]["failed_total"] == 4


def test_a_failure_the_next_fault_caused_is_not_charged_to_the_previous_one(tmp_path: Path) -> None:
    rows = [*_steady(0, 30),
            (10.5, "book", "http_502", 1.0), (13.0, "book", "", 20.0),  # fault 0, then recovered
            (19.5, "book_e2e", "timeout", 1500.0)]  # started before fault 1, failed during it
    _requests(tmp_path, rows)
    _faults(tmp_path, [
        {"action": "kill", "target": "booking", "at_s": 10, "started_epoch": T0 + 10,
         "ended_epoch": T0 + 12},
        {"action": "kill", "target": "nats", "at_s": 20, "started_epoch": T0 + 20,
         "ended_epoch": T0 + 22}])
    first, _ = analyse_run(tmp_path)["faults"]
    assert first["recovery_s"] == 1.02  # the booking at 13 s: not "never", despite the timeout
    assert first["failed_after"] == {"book_e2e": 1}  # still counted where it started


def test_the_baseline_before_a_fault_leaves_out_the_warm_up_and_the_previous_fault(
        tmp_path: Path) -> None:
    (tmp_path / "plan.json").write_text(json.dumps({"warmup_s": 5}))
    slow_warm_up = [(t, "search_availability", "", 500.0) for t in (1.0, 2.0, 3.0)]
    _requests(tmp_path, [*slow_warm_up, *_steady(5, 30)])
    _faults(tmp_path, [
        {"action": "pause", "target": "query", "at_s": 6, "started_epoch": T0 + 6,
         "ended_epoch": T0 + 7},
        {"action": "pause", "target": "query", "at_s": 12, "started_epoch": T0 + 12,
         "ended_epoch": T0 + 13}])
    first, second = analyse_run(tmp_path)["faults"]
    # 1 s of calm after the warm-up: 10 requests, too few for a p99
    assert first["p99_before_samples"] == 10 and first["p99_before_ms"] is None
    assert first["p99_recovered_s"] is None
    # from the first fault's end (7 s) to 12 s: 50 requests at 10 ms; the warm-up's 500 ms apart
    assert second["p99_before_samples"] == 50 and second["p99_before_ms"] == 10.0
