"""The scorecard: each claim of the debate (claims.yaml, or the user's copy) judged on a run folder.

Every metric comes from files of the run folder: the audit (`audit/audit.json`), each run's
`overhead.json` of the first load step, and `aggregate.csv`. A metric is either a count (read
from the code or the manifests, counted on a deployment, or counted once by the live audit: treated
as exact, a difference below min_effect counting as none) or a measurement with spread over
repeats.
A claim is *supported* when every metric that shows a significant difference goes the claimed way,
*refuted* when they all go the other way, and *not significant* when none does or they disagree:
- an exact count differs significantly when the relative difference reaches the claim's min_effect;
- a measurement differs significantly when its min-max ranges over repeats do not overlap (the
  rule of the rest of the report) and the difference of the medians reaches min_effect too (a 2%
  gap between tight ranges is real, but too small to settle a claim); one repeat has no range, so
  it is never significant.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from harness.config.errors import HarnessError
from harness.config.loading import read_yaml
from harness.results.audit_files import AUDIT_FILE, load_audit
from harness.results.files import write_atomic

SCORECARD_JSON = "scorecard.json"
SCORECARD_CSV = "scorecard.csv"


@dataclass(frozen=True)
class Value:
    median: float
    low: float
    high: float
    n: int

    @classmethod
    def exact(cls, value: float) -> Value:
        return cls(float(value), float(value), float(value), 1)

    @classmethod
    def of(cls, samples: list[float]) -> Value:
        ordered = sorted(samples)
        mid = len(ordered) // 2
        median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
        return cls(median, ordered[0], ordered[-1], len(ordered))


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    exact: bool
    source: str
    description: str
    values: dict[str, Value]


# "A < B": the claim holds if the metric is lower for architecture A than for B
_HOLDS_IF = re.compile(r"^\s*([a-z][a-z0-9_-]*)\s*([<>])\s*([a-z][a-z0-9_-]*)\s*$")


def compared(holds_if: str) -> tuple[str, str, bool]:
    """The two architectures of `A < B` or `A > B`, and whether the claim wants A lower."""
    match = _HOLDS_IF.match(holds_if)
    if match is None:
        raise ValueError(f"expected 'A < B' or 'A > B' with two architectures, not {holds_if!r}")
    first, op, second = match.groups()
    return first, second, op == "<"


class Claim(BaseModel):
    """A claim compares two architectures, named in `holds_if`; `side` is the one arguing it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    claim: str = Field(min_length=1)
    holds_if: str  # before `side`, which is checked against it
    side: str
    kind: Literal["pro", "con"]
    metrics: list[str] = Field(min_length=1)
    min_effect: float = Field(0.05, ge=0, lt=1)
    why: str = ""

    @field_validator("holds_if")
    @classmethod
    def _two_architectures(cls, value: str) -> str:
        first, second, _ = compared(value)
        if first == second:
            raise ValueError(f"compares {first} with itself")
        return value

    @field_validator("side")
    @classmethod
    def _one_of_them(cls, value: str, info: ValidationInfo) -> str:
        if "holds_if" in info.data:  # absent when holds_if itself is invalid
            first, second, _ = compared(info.data["holds_if"])
            if value not in (first, second):
                raise ValueError(f"{value!r} is neither {first} nor {second} (holds_if)")
        return value

    @property
    def architectures(self) -> tuple[str, str]:
        first, second, _ = compared(self.holds_if)
        return first, second


class Claims(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    claims: list[Claim] = Field(min_length=1)


def default_claims_path() -> Path:
    return Path(str(resources.files("harness.audit").joinpath("claims.yaml")))


def load_claims(path: Path | None = None) -> list[Claim]:
    """The claims file, validated: an unknown key or a bad value names its path."""
    path = path or default_claims_path()
    raw = read_yaml(path, "claims file")
    try:
        claims = Claims.model_validate(raw).claims
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        message = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise HarnessError(f"{path}: {where}: {message}") from None
    known = set(METRICS)
    for i, claim in enumerate(claims):
        for j, name in enumerate(claim.metrics):
            if name not in known:
                raise HarnessError(f"{path}: claims.{i}.metrics.{j}: unknown metric {name!r}; "
                                   f"known: {', '.join(sorted(known))}")
    return claims


# name -> (unit, exact, source, description)
METRICS: dict[str, tuple[str, bool, str, str]] = {
    "cross_cutting_lines": ("lines", True, "audit: imports",
                            "plumbing lines (config, start-up, health, HTTP, storage, messaging) "
                            "each deployable loads and runs, summed over deployables"),
    "cross_cutting_distinct_lines": ("lines", True, "audit: imports",
                                     "plumbing lines written once, whichever deployables load them"),
    "cross_context_imports": ("imports", True, "audit: imports",
                              "import edges between modules of different bounded contexts"),
    "deployable_density": ("", True, "audit: imports",
                           "edges / (n(n-1)) of the import graph of what a deployable loads, "
                           "mean over deployables"),
    "largest_own_lines": ("lines", True, "audit: imports",
                          "code lines of the largest deployable's own package"),
    "largest_loaded_lines": ("lines", True, "audit: imports",
                             "code lines the largest deployable loads, shared libraries included"),
    "import_cycles": ("cycles", True, "audit: imports", "import cycles (run-time imports)"),
    "contexts_per_deployable": ("contexts", True, "audit: imports",
                                "bounded contexts divided by deployables"),
    "shared_tables": ("tables", True, "audit: data",
                      "tables read or written by more than one context or service"),
    "cross_database": ("tables", True, "audit: data",
                       "tables a deployable's code names outside its own database"),
    "service_coupling_factor": ("", True, "audit: contracts",
                                "dependency edges / (n(n-1)) over deployables and the provider"),
    "checklist_failures": ("checks", True, "audit: checklist",
                           "well-designed-service checks failed"),
    "booking_messages": ("messages", True, "audit: runtime",
                         "broker messages (events + deliveries) per booking"),
    "booking_hops": ("hops", True, "audit: runtime", "process-to-process messages per booking"),
    "booking_bytes": ("bytes", True, "audit: runtime",
                      "bytes serialised per booking (client bodies + broker in/out)"),
    "booking_sync_calls": ("calls", True, "audit: runtime",
                           "dependencies a booking request calls while the client waits"),
    "booking_databases": ("databases", True, "audit: runtime", "databases a booking touches"),
    "search_hops": ("hops", True, "audit: runtime", "process-to-process messages per search"),
    "cancel_messages": ("messages", True, "audit: runtime", "broker messages per cancel"),
    "blast_radius": ("share", True, "audit: availability",
                     "operations failing while one component is frozen, mean over every process "
                     "of the deployment"),
    "app_blast_radius": ("share", True, "audit: availability",
                         "operations failing while one application process (a service, or the "
                         "monolith) is frozen, mean over them"),
    "e2e_processes": ("processes", True, "audit: e2e pass",
                      "processes running for an end-to-end test of every operation"),
    "processes": ("processes", True, "runs: overhead.json", "processes of the deployment"),
    "databases": ("databases", True, "runs: overhead.json", "databases of the deployment"),
    "ports": ("ports", True, "runs: overhead.json", "listening ports of the deployment"),
    "config_lines": ("lines", True, "runs: overhead.json", "deployment configuration lines"),
    "total_rss_mib": ("MiB", False, "runs: overhead.json", "resident memory of the deployment"),
    "cold_start_s": ("s", False, "runs: overhead.json", "start to healthy"),
    "book_e2e_p50_ms": ("ms", False, "aggregate.csv", "book_e2e p50 at the first load step"),
    "book_e2e_p99_ms": ("ms", False, "aggregate.csv", "book_e2e p99 at the first load step"),
    "search_p50_ms": ("ms", False, "aggregate.csv",
                      "search_availability p50 at the first load step"),
    "cpu_s_per_1k": ("CPU s", False, "aggregate.csv",
                     "CPU seconds per 1,000 requests at the first load step"),
}


def collect_metrics(run_dir: Path) -> dict[str, Metric]:
    """Every metric there is data for in `run_dir` (a run folder, or an audit folder alone)."""
    found: dict[str, dict[str, Value]] = {name: {} for name in METRICS}
    audit = load_audit(run_dir / "audit") or load_audit(run_dir)
    for arch, entry in (audit or {}).get("architectures", {}).items():
        for name, value in _audit_values(entry).items():
            found[name][arch] = value
    for arch, overheads in _overheads(run_dir).items():
        for name in ("processes", "databases", "ports", "config_lines", "total_rss_mib",
                     "cold_start_s"):
            samples = [float(o[name]) for o in overheads if o.get(name) is not None]
            if samples:
                found[name][arch] = (Value.exact(samples[0]) if METRICS[name][1]
                                     and len(set(samples)) == 1 else Value.of(samples))
    for (arch, name), value in _latencies(run_dir).items():
        found[name][arch] = value
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


def _overheads(run_dir: Path) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(run_dir.glob("runs/*/r*/s0/overhead.json")):  # the first step, as latency
        try:
            overhead = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise HarnessError(f"{path} is unreadable ({exc})") from None
        out.setdefault(path.parts[-4], []).append(overhead)
    return out


def _latencies(run_dir: Path) -> dict[tuple[str, str], Value]:
    path = run_dir / "aggregate.csv"
    if not path.exists():
        return {}
    with open(path, newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["step"] == "0"]
    out = {}
    wanted = {("book_e2e", "p50_ms"): "book_e2e_p50_ms", ("book_e2e", "p99_ms"): "book_e2e_p99_ms",
              ("search_availability", "p50_ms"): "search_p50_ms",
              ("search_availability", "cpu_s_per_1k"): "cpu_s_per_1k"}
    for row in rows:
        for (operation, column), name in wanted.items():
            if row["operation"] != operation or not row.get(column):
                continue
            median = float(row[column])
            if math.isnan(median):
                continue
            low = float(row.get(f"{column}_min") or median)
            high = float(row.get(f"{column}_max") or median)
            out[(row["architecture"], name)] = Value(median, low, high, int(float(row["repeats"])))
    return out


def judge_metric(metric: Metric | None, holds_if: str, min_effect: float) -> dict[str, Any]:
    """One metric's verdict for one claim (`A < B` or `A > B`), with the numbers behind it; an
    architecture the run did not measure leaves it not evaluated."""
    first, second, lower = compared(holds_if)
    if metric is None or any(a not in metric.values for a in (first, second)):
        return {"verdict": "not evaluated", "note": "not measured in this run"}
    a, b = metric.values[first], metric.values[second]
    direction = "lower" if a.median < b.median else "higher"
    numbers = {first: vars(a), second: vars(b)}
    scale = max(abs(a.median), abs(b.median))
    effect = abs(a.median - b.median) / scale if scale else 0.0
    if not metric.exact:
        if a.n < 2 or b.n < 2:
            return {"verdict": "not significant", **numbers,
                    "note": "measured once: no spread to judge"}
        if a.low <= b.high and b.low <= a.high:
            return {"verdict": "not significant", **numbers,
                    "note": f"ranges over {min(a.n, b.n)} repeats overlap"}
    if effect < min_effect:
        return {"verdict": "not significant", **numbers,
                "note": f"differ by {effect:.0%} (< {min_effect:.0%})"}
    note = f"{first} {direction} by {effect:.0%}" + (
        "" if metric.exact else "; ranges over repeats do not overlap")
    holds = a.median < b.median if lower else a.median > b.median
    return {"verdict": "supported" if holds else "refuted", **numbers, "note": note}


def judge(claim: Claim, metrics: dict[str, Metric]) -> dict[str, Any]:
    rows = []
    for name in claim.metrics:
        rows.append({"metric": name, **judge_metric(metrics.get(name), claim.holds_if,
                                                    claim.min_effect)})
    verdicts = {r["verdict"] for r in rows}
    significant = verdicts & {"supported", "refuted"}
    if verdicts == {"not evaluated"}:
        verdict, reason = "not evaluated", "none of its metrics was measured in this run"
    elif len(significant) == 1:
        verdict = significant.pop()
        names = [r["metric"] for r in rows if r["verdict"] == verdict]
        reason = f"{', '.join(names)} {'agree' if len(names) > 1 else 'shows it'}"
        quiet = [r["metric"] for r in rows if r["verdict"] == "not significant"]
        if quiet:
            reason += f"; {', '.join(quiet)} not significant"
        missing = [r["metric"] for r in rows if r["verdict"] == "not evaluated"]
        if missing:
            reason += f"; {', '.join(missing)} not measured"
    elif significant:
        verdict = "not significant"
        reason = ("metrics disagree: " + ", ".join(
            f"{r['metric']} {'supports' if r['verdict'] == 'supported' else 'refutes'}"
            for r in rows if r["verdict"] in ("supported", "refuted")))
    else:
        verdict, reason = "not significant", "no metric shows a significant difference"
    return {"claim": claim.claim, "side": claim.side, "kind": claim.kind,
            "holds_if": claim.holds_if, "why": claim.why, "verdict": verdict, "reason": reason,
            "metrics": rows}


def scorecard(run_dir: Path, claims_path: Path | None = None) -> dict[str, Any]:
    """Judge every claim on `run_dir` and write scorecard.json and scorecard.csv there."""
    claims = load_claims(claims_path)
    if not (run_dir / "audit" / AUDIT_FILE).exists() and not (run_dir / AUDIT_FILE).exists() \
            and not (run_dir / "aggregate.csv").exists():
        raise HarnessError(f"{run_dir} holds no audit and no aggregate.csv: nothing to judge")
    metrics = collect_metrics(run_dir)
    result = {
        "claims_file": str(claims_path or default_claims_path()),
        "claims": [judge(c, metrics) for c in claims],
        "metrics": [{"metric": m.name, "unit": m.unit, "exact": m.exact, "source": m.source,
                     "description": m.description,
                     **{a: vars(v) for a, v in m.values.items()}} for m in metrics.values()],
    }
    write_atomic(run_dir / SCORECARD_JSON, json.dumps(result, indent=2))
    # one column per architecture the claims compare, in the order they first name them
    archs = list(dict.fromkeys(a for c in claims for a in c.architectures))
    lines = [["side", "kind", "claim", "verdict", "metric", "metric_verdict", *archs, "note"]]
    for row in result["claims"]:
        for m in row["metrics"]:
            lines.append([row["side"], row["kind"], row["claim"], row["verdict"], m["metric"],
                          m["verdict"], *(_median(m.get(a)) for a in archs), m["note"]])
    tmp = run_dir / (SCORECARD_CSV + ".tmp")
    with open(tmp, "w", newline="") as handle:
        csv.writer(handle).writerows(lines)
    tmp.replace(run_dir / SCORECARD_CSV)
    return result


def _median(value: dict[str, Any] | None) -> str:
    return "" if value is None else f"{value['median']:g}"
