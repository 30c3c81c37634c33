"""The metrics the scorecard judges claims on, and reading them from a run folder.

A metric is either **structural**, true of the two codebases and their deployments whatever the run
(read from the code or the manifests, or counted once on a deployment: imports, tables, processes,
messages per booking), or **measured**, a value that changes from run to run (latency, CPU, memory,
start-up time, what faults broke), which comes with an interval: see `interval_from`.

Sources: the audit (`audit/audit.json`), each run's `overhead.json` of the first load step,
`aggregate.csv`, and the invariant check (`check.json`) of every run that had faults.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from harness.config.errors import HarnessError
from harness.results.audit_files import load_audit

Evidence = Literal["structural", "measured"]
MIN_MAX = "min-max over repeats"
BOOTSTRAP = "95% bootstrap interval"


@dataclass(frozen=True)
class Value:
    """A metric's value for one architecture: its median and the interval it is judged with.

    `interval` says what low..high is: "exact" (a structural count), MIN_MAX (the range of `n`
    repeats), or BOOTSTRAP (a confidence interval from the samples, harness/results/stats.py).
    """

    median: float
    low: float
    high: float
    n: int
    interval: str = "exact"

    @classmethod
    def exact(cls, value: float) -> Value:
        return cls(float(value), float(value), float(value), 1)

    @classmethod
    def of(cls, samples: list[float]) -> Value:
        """The median and min-max range of one sample per repeat."""
        ordered = sorted(samples)
        mid = len(ordered) // 2
        median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
        return cls(median, ordered[0], ordered[-1], len(ordered), MIN_MAX)


def interval_from(row: Mapping[str, str], column: str) -> Value | None:
    """`column` of one aggregate.csv row with the interval the scorecard judges it by: the
    bootstrap confidence interval (`<column>_lo`, `<column>_hi`) where the table has one, else the
    min-max range over repeats (`<column>_min`, `<column>_max`). None when the value is missing.

    The one place the scorecard takes an interval from: point it at harness/results/stats.py to
    change how intervals are made."""
    median = _float(row.get(column))
    if median is None:
        return None
    repeats = int(_float(row.get("repeats")) or 1)
    low, high = _float(row.get(f"{column}_lo")), _float(row.get(f"{column}_hi"))
    if low is not None and high is not None:
        return Value(median, low, high, repeats, BOOTSTRAP)
    low, high = _float(row.get(f"{column}_min")), _float(row.get(f"{column}_max"))
    return Value(median, median if low is None else low, median if high is None else high,
                 repeats, MIN_MAX)


def _float(text: str | None) -> float | None:
    try:
        value = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return None if value is None or math.isnan(value) else value


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    evidence: Evidence
    source: str
    description: str
    values: dict[str, Value]


# name -> (unit, evidence, source, description)
METRICS: dict[str, tuple[str, Evidence, str, str]] = {
    "cross_cutting_lines": ("lines", "structural", "audit: imports",
                            "plumbing lines (config, start-up, health, HTTP, storage, messaging) "
                            "each deployable loads and runs, summed over deployables"),
    "cross_cutting_distinct_lines": ("lines", "structural", "audit: imports",
                                     "plumbing lines written once, whichever deployables load them"),
    "cross_context_imports": ("imports", "structural", "audit: imports",
                              "import edges between modules of different bounded contexts"),
    "deployable_density": ("", "structural", "audit: imports",
                           "edges / (n(n-1)) of the import graph of what a deployable loads, "
                           "mean over deployables"),
    "largest_own_lines": ("lines", "structural", "audit: imports",
                          "code lines of the largest deployable's own package"),
    "largest_loaded_lines": ("lines", "structural", "audit: imports",
                             "code lines the largest deployable loads, shared libraries included"),
    "import_cycles": ("cycles", "structural", "audit: imports", "import cycles (run-time imports)"),
    "contexts_per_deployable": ("contexts", "structural", "audit: imports",
                                "bounded contexts divided by deployables"),
    "shared_tables": ("tables", "structural", "audit: data",
                      "tables read or written by more than one context or service"),
    "cross_database": ("tables", "structural", "audit: data",
                       "tables a deployable's code names outside its own database"),
    "service_coupling_factor": ("", "structural", "audit: contracts",
                                "dependency edges / (n(n-1)) over deployables and the provider"),
    "checklist_failures": ("checks", "structural", "audit: checklist",
                           "well-designed-service checks failed"),
    "booking_messages": ("messages", "structural", "audit: runtime",
                         "broker messages (events + deliveries) per booking"),
    "booking_hops": ("hops", "structural", "audit: runtime", "process-to-process messages per booking"),
    "booking_bytes": ("bytes", "structural", "audit: runtime",
                      "bytes serialised per booking (client bodies + broker in/out)"),
    "booking_sync_calls": ("calls", "structural", "audit: runtime",
                           "dependencies a booking request calls while the client waits"),
    "booking_databases": ("databases", "structural", "audit: runtime", "databases a booking touches"),
    "search_hops": ("hops", "structural", "audit: runtime", "process-to-process messages per search"),
    "cancel_messages": ("messages", "structural", "audit: runtime", "broker messages per cancel"),
    "blast_radius": ("share", "structural", "audit: availability",
                     "operations failing while one component is frozen, mean over every process "
                     "of the deployment"),
    "app_blast_radius": ("share", "structural", "audit: availability",
                         "operations failing while one application process (a service, or the "
                         "monolith) is frozen, mean over them"),
    "e2e_processes": ("processes", "structural", "audit: e2e pass",
                      "processes running for an end-to-end test of every operation"),
    "processes": ("processes", "structural", "runs: overhead.json", "processes of the deployment"),
    "databases": ("databases", "structural", "runs: overhead.json", "databases of the deployment"),
    "ports": ("ports", "structural", "runs: overhead.json", "listening ports of the deployment"),
    "config_lines": ("lines", "structural", "runs: overhead.json",
                     "configuration settings, one line each: the gateway's, every manifest's "
                     "(prose and comments left out) and those handed to every process"),
    "total_rss_mib": ("MiB", "measured", "runs: overhead.json", "resident memory of the deployment"),
    "cold_start_s": ("s", "measured", "runs: overhead.json", "start to healthy"),
    "book_e2e_p50_ms": ("ms", "measured", "aggregate.csv", "book_e2e p50 at the first load step"),
    "book_e2e_p99_ms": ("ms", "measured", "aggregate.csv", "book_e2e p99 at the first load step"),
    "search_p50_ms": ("ms", "measured", "aggregate.csv",
                      "search_availability p50 at the first load step"),
    "cpu_s_per_1k": ("CPU s", "measured", "aggregate.csv",
                     "CPU seconds per 1,000 requests at the first load step"),
    "fault_violations": ("violations", "measured", "runs with faults: check.json",
                         "invariant violations (overbooking, inventory, a booking left unfinished, "
                         "money, read side) the check found after each run with faults"),
}
OVERHEAD_METRICS = ("processes", "databases", "ports", "config_lines", "total_rss_mib",
                    "cold_start_s")


def collect_metrics(run_dir: Path) -> dict[str, Metric]:
    """Every metric there is data for in `run_dir` (a run folder, or an audit folder alone)."""
    found: dict[str, dict[str, Value]] = {name: {} for name in METRICS}
    audit = load_audit(run_dir / "audit") or load_audit(run_dir)
    for arch, entry in (audit or {}).get("architectures", {}).items():
        for name, value in _audit_values(entry).items():
            found[name][arch] = value
    for arch, overheads in _overheads(run_dir).items():
        for name in OVERHEAD_METRICS:
            samples = [float(o[name]) for o in overheads if o.get(name) is not None]
            if samples:
                structural = METRICS[name][1] == "structural" and len(set(samples)) == 1
                found[name][arch] = Value.exact(samples[0]) if structural else Value.of(samples)
    for (arch, name), value in _latencies(run_dir).items():
        found[name][arch] = value
    for arch, violations in _fault_violations(run_dir).items():
        found["fault_violations"][arch] = Value.of(violations)
    return {name: Metric(name, *METRICS[name], values=values)
            for name, values in found.items() if values}


def _audit_values(entry: dict[str, Any]) -> dict[str, Value]:
    imports = entry["static"]["imports"]
    data = entry["static"]["data"]
    contexts = sum(1 for c in imports["components"] if c["kind"] in ("context", "service"))
    values = {
        "cross_cutting_lines": sum(d["cross_cutting_lines"] for d in imports["deployables"]),
        "cross_context_imports": len(imports["cross_context_imports"]),
        "deployable_density": imports["mean_deployable_density"],
        "cross_cutting_distinct_lines": imports["cross_cutting_distinct_lines"],
        "largest_own_lines": imports["largest_deployable"]["own_lines"],
        "largest_loaded_lines": max(d["lines"] for d in imports["deployables"]),
        "import_cycles": len(imports["cycles"]),
        "contexts_per_deployable": contexts / len(imports["deployables"]),
        "shared_tables": len(data["shared_tables"]),
        "cross_database": len(data["cross_database"]),
        "checklist_failures": sum(1 for c in entry["checklist"] if c["passed"] is False),
    }
    scf = entry["static"]["contracts"]["scf"]
    if scf is not None:
        values["service_coupling_factor"] = scf
    runtime = entry.get("runtime")
    if runtime:
        book = runtime["book"]
        values |= {"booking_messages": book["messages"], "booking_hops": book["hops"],
                   "booking_bytes": book["bytes"], "booking_sync_calls": len(book["sync_calls"]),
                   "booking_databases": book["databases_touched"],
                   "search_hops": runtime["search"]["hops"],
                   "cancel_messages": runtime["cancel"]["messages"]}
    availability = entry.get("availability")
    if availability:
        values |= {"blast_radius": availability["mean_blast_radius"],
                   "app_blast_radius": availability["mean_app_blast_radius"]}
    e2e = (entry.get("live") or {}).get("e2e_pass")
    if e2e:
        values["e2e_processes"] = e2e["processes"]
    return {name: Value.exact(v) for name, v in values.items()}


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise HarnessError(f"{path} is unreadable ({exc})") from None


def _overheads(run_dir: Path) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(run_dir.glob("runs/*/r*/s0/overhead.json")):  # the first step, as latency
        out.setdefault(path.parts[-4], []).append(_read_json(path))
    return out


# aggregate.csv (operation, column) -> metric
LATENCY_METRICS = {("book_e2e", "p50_ms"): "book_e2e_p50_ms",
                   ("book_e2e", "p99_ms"): "book_e2e_p99_ms",
                   ("search_availability", "p50_ms"): "search_p50_ms",
                   ("search_availability", "cpu_s_per_1k"): "cpu_s_per_1k"}


def _latencies(run_dir: Path) -> dict[tuple[str, str], Value]:
    path = run_dir / "aggregate.csv"
    if not path.exists():
        return {}
    with open(path, newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["step"] == "0"]
    out = {}
    for row in rows:
        for (operation, column), name in LATENCY_METRICS.items():
            if row["operation"] == operation:
                value = interval_from(row, column)
                if value is not None:
                    out[(row["architecture"], name)] = value
    return out


def _fault_violations(run_dir: Path) -> dict[str, list[float]]:
    """Per architecture, the violations the invariant check found after each run in which a
    fault was injected (a run whose check could not run is left out)."""
    out: dict[str, list[float]] = {}
    for faults_file in sorted(run_dir.glob("runs/*/r*/s*/faults.json")):
        injected = [f for f in _read_json(faults_file).get("faults", []) if f.get("started_epoch")]
        check = faults_file.with_name("check.json")
        if not injected or not check.is_file():
            continue
        totals = _read_json(check).get("totals") or {}
        if totals.get("violations") is not None:
            out.setdefault(faults_file.parts[-4], []).append(float(totals["violations"]))
    return out
