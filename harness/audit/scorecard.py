"""The scorecard: each claim of the debate (claims.yaml, or the user's copy) judged on a run folder.

A claim's evidence is of one kind (harness/audit/claims.py):
- **measured** claims are the verdicts: *supported* when every metric that differs significantly goes
  the claimed way, *refuted* when they all go the other way, *not significant* when none does or
  they disagree. A measured metric differs significantly when the two architectures' intervals do
  not overlap (harness/audit/evidence.py `interval_from`: bootstrap intervals where aggregate.csv
  has them, else min-max ranges over repeats, so one repeat alone is never significant) and the
  difference of the medians reaches the claim's minimum effect;
- **structural** claims are facts of the two codebases whatever the run: *true by construction*,
  *false by construction*, *mixed* or *no difference* (a difference under the minimum effect); they
  are listed with what makes them so and never counted as verdicts;
- a claim **not measurable here** says what would measure it.
A claim with a mirror (the other side's statement of the same comparison) is judged once; the
mirror's verdict follows from it.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

from harness.audit.claims import (
    NOT_MEASURABLE,
    Claim,
    compared,
    default_claims_path,
    load_claims,
)
from harness.audit.evidence import MIN_MAX, Metric, Value, collect_metrics
from harness.config.errors import HarnessError
from harness.results import provenance
from harness.results.audit_files import AUDIT_FILE
from harness.results.files import write_atomic

__all__ = ["SCORECARD_CSV", "SCORECARD_JSON", "Claim", "Metric", "Value", "collect_metrics",
           "headline", "judge", "judge_metric", "load_claims", "scorecard"]

SCORECARD_JSON = "scorecard.json"
SCORECARD_CSV = "scorecard.csv"
VERDICTS = ("supported", "refuted", "not significant", "not evaluated")
# a structural claim's outcome, for the verdict its metrics would give a measured one
BY_CONSTRUCTION = {"supported": "true by construction", "refuted": "false by construction",
                   "not significant": "no difference", "not evaluated": "not evaluated"}
OPPOSITE = {"supported": "refuted", "refuted": "supported"}
# why a metric can be missing, beyond "not measured"
MISSING = {"fault_violations": "no run of this folder had faults (scenarios/chaos.yaml has them)"}


def judge_metric(metric: Metric | None, holds_if: str, min_effect: float) -> dict[str, Any]:
    """One metric's verdict for one claim (`A < B` or `A > B`), with the numbers behind it; an
    architecture the run did not measure leaves it not evaluated."""
    first, second, lower = compared(holds_if)
    if metric is None or any(a not in metric.values for a in (first, second)):
        return {"verdict": "not evaluated", "note": "not measured in this run"}
    a, b = metric.values[first], metric.values[second]
    numbers = {first: vars(a), second: vars(b)}
    scale = max(abs(a.median), abs(b.median))
    effect = abs(a.median - b.median) / scale if scale else 0.0
    if metric.evidence == "measured":
        apart = _intervals_apart(a, b)
        if apart is not None:
            return {"verdict": "not significant", **numbers, "note": apart}
    if effect < min_effect:
        return {"verdict": "not significant", **numbers,
                "note": f"differ by {effect:.0%} (< {min_effect:.0%}, the minimum effect)"}
    note = f"{first} {'lower' if a.median < b.median else 'higher'} by {effect:.0%}"
    if metric.evidence == "measured":
        note += f"; {_interval_words(a, b)} do not overlap"
    holds = a.median < b.median if lower else a.median > b.median
    return {"verdict": "supported" if holds else "refuted", **numbers, "note": note}


def _intervals_apart(a: Value, b: Value) -> str | None:
    """None when the two intervals are apart; else why the difference is not significant."""
    if MIN_MAX in (a.interval, b.interval) and min(a.n, b.n) < 2:
        return "measured once: no spread to judge"
    if a.low <= b.high and b.low <= a.high:
        return f"{_interval_words(a, b)} overlap"
    return None


def _interval_words(a: Value, b: Value) -> str:
    if a.interval == b.interval == MIN_MAX:
        return f"ranges over {min(a.n, b.n)} repeats"
    return f"{a.interval}s" if a.interval == b.interval else "intervals"


def judge(claim: Claim, metrics: dict[str, Metric]) -> dict[str, Any]:
    """The claim's verdict (or, structural, what its metrics show by construction) and its mirror's."""
    rows = [{"metric": name, **judge_metric(metrics.get(name), claim.holds_if, claim.effect)}
            for name in claim.metrics]
    for row in rows:
        if row["verdict"] == "not evaluated" and row["metric"] in MISSING:
            row["note"] = MISSING[row["metric"]]
    evidence = claim.kind_of_evidence
    if evidence == NOT_MEASURABLE:
        verdict, reason = NOT_MEASURABLE, claim.would_measure
    else:
        verdict, reason = _combine(rows)
    shown = BY_CONSTRUCTION[verdict] if evidence == "structural" else verdict
    if evidence == "structural" and "disagree" in reason:
        shown = "mixed"
    names = [{"claim": claim.claim, "side": claim.side, "kind": claim.kind,
              "holds_if": claim.holds_if, "verdict": shown}]
    if claim.mirror is not None:
        mirrored = verdict if claim.mirror_agrees else OPPOSITE.get(verdict, verdict)
        names.append({"claim": claim.mirror.claim, "side": claim.mirror.side,
                      "kind": claim.mirror.kind, "holds_if": claim.mirror.holds_if,
                      "verdict": (BY_CONSTRUCTION[mirrored] if evidence == "structural"
                                  else mirrored) if shown != "mixed" else shown})
    return {"claim": claim.claim, "side": claim.side, "kind": claim.kind,
            "holds_if": claim.holds_if, "evidence": evidence, "verdict": shown, "reason": reason,
            "names": names, "min_effect": claim.effect if evidence == "measured" else None,
            "why": claim.why, "reference": claim.reference, "made_so_by": claim.made_so_by,
            "would_measure": claim.would_measure, "metrics": rows}


def _combine(rows: list[dict[str, Any]]) -> tuple[str, str]:
    verdicts = {r["verdict"] for r in rows}
    significant = verdicts & {"supported", "refuted"}
    if verdicts == {"not evaluated"}:
        notes = sorted({r["note"] for r in rows})
        return "not evaluated", "; ".join(notes)
    if len(significant) == 1:
        verdict = significant.pop()
        names = [r["metric"] for r in rows if r["verdict"] == verdict]
        reason = f"{', '.join(names)} {'agree' if len(names) > 1 else 'shows it'}"
        quiet = [r["metric"] for r in rows if r["verdict"] == "not significant"]
        if quiet:
            reason += f"; {', '.join(quiet)} not significant"
        missing = [r["metric"] for r in rows if r["verdict"] == "not evaluated"]
        if missing:
            reason += f"; {', '.join(missing)} not measured"
        return verdict, reason
    if significant:
        return "not significant", "metrics disagree: " + ", ".join(
            f"{r['metric']} {'supports' if r['verdict'] == 'supported' else 'refutes'}"
            for r in rows if r["verdict"] in ("supported", "refuted"))
    return "not significant", "no metric shows a significant difference"


def headline(claims: list[dict[str, Any]]) -> dict[str, Any]:
    """What the scorecard counts: measured verdicts only; structural facts and claims not
    measurable here are numbered, never scored."""
    measured = Counter(c["verdict"] for c in claims if c["evidence"] == "measured")
    return {"measured": {v: measured[v] for v in VERDICTS if measured[v]},
            "structural": sum(1 for c in claims if c["evidence"] == "structural"),
            NOT_MEASURABLE: sum(1 for c in claims if c["evidence"] == NOT_MEASURABLE)}


def scorecard(run_dir: Path, claims_path: Path | None = None, *,
              by: str = "archbench scorecard") -> dict[str, Any]:
    """Judge every claim on `run_dir` and write scorecard.json and scorecard.csv there, recording
    in its provenance.json that `by` wrote them with this revision."""
    claims = load_claims(claims_path)
    if not (run_dir / "audit" / AUDIT_FILE).exists() and not (run_dir / AUDIT_FILE).exists() \
            and not (run_dir / "aggregate.csv").exists():
        raise HarnessError(f"{run_dir} holds no audit and no aggregate.csv: nothing to judge")
    metrics = collect_metrics(run_dir)
    judged = [judge(c, metrics) for c in claims]
    written = [run_dir / SCORECARD_JSON, run_dir / SCORECARD_CSV]
    result = {
        "provenance": {**provenance.stamp(by),
                       "run_revision": provenance.read(run_dir)["run"]["revision"]},
        "claims_file": provenance.portable(claims_path or default_claims_path()),
        "headline": headline(judged),
        "claims": judged,
        "metrics": [{"metric": m.name, "unit": m.unit, "evidence": m.evidence, "source": m.source,
                     "description": m.description,
                     **{a: vars(v) for a, v in m.values.items()}} for m in metrics.values()],
    }
    write_atomic(written[0], json.dumps(result, indent=2))
    _write_csv(written[1], claims, judged)
    provenance.record(run_dir, written, by)
    return result


def _write_csv(path: Path, claims: list[Claim], judged: list[dict[str, Any]]) -> None:
    # three columns per architecture the claims compare, in the order they first name them
    archs = list(dict.fromkeys(a for c in claims for a in c.architectures))
    lines = [["evidence", "side", "kind", "claim", "mirror", "verdict", "metric", "metric_verdict",
              *(f"{a}{part}" for a in archs for part in ("", "_low", "_high")), "note"]]
    for row in judged:
        mirror = "; ".join(f"{n['claim']} ({n['side']} {n['kind']}): {n['verdict']}"
                           for n in row["names"][1:])
        head = [row["evidence"], row["side"], row["kind"], row["claim"], mirror, row["verdict"]]
        if not row["metrics"]:
            lines.append([*head, "", "", *("" for _ in archs for _ in range(3)), row["reason"]])
        for m in row["metrics"]:
            lines.append([*head, m["metric"], m["verdict"],
                          *(_number(m.get(a), part) for a in archs
                            for part in ("median", "low", "high")), m["note"]])
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as handle:
        csv.writer(handle).writerows(lines)
    tmp.replace(path)


def _number(value: dict[str, Any] | None, part: str) -> str:
    return "" if value is None else f"{value[part]:g}"
