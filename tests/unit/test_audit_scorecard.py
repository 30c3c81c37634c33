"""The scorecard: how one metric and one claim are judged, which kind of evidence each claim has,
and the claims file's errors (the shipped claims are checked in test_audit_claims.py; the CLI
that regenerates a scorecard from a run folder runs in tests/integration/test_audit_scorecard.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from harness.audit.evidence import BOOTSTRAP, MIN_MAX, interval_from
from harness.audit.scorecard import (
    Claim,
    Metric,
    Value,
    collect_metrics,
    headline,
    judge,
    judge_metric,
    load_claims,
    scorecard,
)
from harness.config.errors import HarnessError

LOWER = "monolith < microservices"


def _metric(mono: Value, micro: Value, evidence: str = "structural") -> Metric:
    return Metric("m", "", evidence, "test", "", {"monolith": mono, "microservices": micro})


def _measured(mono: list[float], micro: list[float]) -> Metric:
    return _metric(Value.of(mono), Value.of(micro), "measured")


def test_structural_counts_need_the_minimum_effect() -> None:
    assert judge_metric(_metric(Value.exact(1), Value.exact(5)), LOWER, 0.05)["verdict"] == "supported"
    assert judge_metric(_metric(Value.exact(5), Value.exact(1)), LOWER, 0.05)["verdict"] == "refuted"
    close = judge_metric(_metric(Value.exact(100), Value.exact(103)), LOWER, 0.05)
    assert close["verdict"] == "not significant" and "3%" in close["note"]
    same = judge_metric(_metric(Value.exact(0), Value.exact(0)), LOWER, 0.05)
    assert same["verdict"] == "not significant"


def test_measurements_need_separate_ranges_over_repeats() -> None:
    once = judge_metric(_measured([10], [30]), LOWER, 0.05)
    assert once["verdict"] == "not significant" and "once" in once["note"]
    overlap = judge_metric(_measured([10, 25], [20, 30]), LOWER, 0.05)
    assert overlap["verdict"] == "not significant" and "ranges over 2 repeats overlap" in overlap["note"]
    apart = judge_metric(_measured([10, 12], [20, 30]), LOWER, 0.05)
    assert apart["verdict"] == "supported"
    tiny = judge_metric(_measured([10, 10.1], [10.2, 10.3]), LOWER, 0.05)
    assert tiny["verdict"] == "not significant"  # separate ranges, but a 2% difference
    assert judge_metric(_measured([10, 12], [20, 30]), LOWER, 0.6)["verdict"] == "not significant"


def test_an_interval_is_the_bootstrap_one_where_the_table_has_it_else_the_range_of_repeats() -> None:
    row = {"repeats": "3", "p99_ms": "10", "p99_ms_min": "8", "p99_ms_max": "14",
           "p99_ms_lo": "9", "p99_ms_hi": "11"}
    assert interval_from(row, "p99_ms") == Value(10, 9, 11, 3, BOOTSTRAP)
    assert interval_from({**row, "p99_ms_lo": "", "p99_ms_hi": "nan"}, "p99_ms") == \
        Value(10, 8, 14, 3, MIN_MAX)
    assert interval_from({"repeats": "1", "p99_ms": "nan"}, "p99_ms") is None


def test_bootstrap_intervals_judge_even_one_repeat() -> None:
    one = Metric("m", "ms", "measured", "t", "", {"monolith": Value(10, 9, 11, 1, BOOTSTRAP),
                                                  "microservices": Value(20, 18, 23, 1, BOOTSTRAP)})
    judged = judge_metric(one, LOWER, 0.1)
    assert judged["verdict"] == "supported" and "95% bootstrap intervals do not overlap" in judged["note"]
    close = Metric("m", "ms", "measured", "t", "", {"monolith": Value(10, 9, 15, 1, BOOTSTRAP),
                                                    "microservices": Value(20, 14, 23, 1, BOOTSTRAP)})
    assert "intervals overlap" in judge_metric(close, LOWER, 0.1)["note"]


def test_a_missing_metric_is_not_evaluated() -> None:
    only_one = Metric("m", "", "structural", "t", "", {"monolith": Value.exact(1)})
    assert judge_metric(only_one, LOWER, 0.05)["verdict"] == "not evaluated"
    assert judge_metric(None, LOWER, 0.05)["verdict"] == "not evaluated"


def _claim(**fields: object) -> Claim:
    return Claim(**{"claim": "c", "side": "monolith", "kind": "pro", "holds_if": LOWER,
                    "evidence": "measured", "metrics": ["a"], **fields})


def test_a_claim_needs_its_significant_metrics_to_agree() -> None:
    claim = _claim(metrics=["a", "b", "c"], min_effect=0.05)
    metrics = {"a": _measured([1, 1], [2, 2]), "b": _measured([1, 1], [1, 1]),
               "c": _measured([3, 3], [1, 1])}
    row = judge(claim, metrics)
    assert row["verdict"] == "not significant" and "disagree" in row["reason"]
    agree = judge(claim, {**metrics, "c": _measured([1, 1], [9, 9])})
    assert agree["verdict"] == "supported" and "b not significant" in agree["reason"]


def test_a_structural_claim_is_a_fact_by_construction_and_never_a_counted_verdict() -> None:
    fact = judge(_claim(evidence="structural"), {"a": _metric(Value.exact(1), Value.exact(5))})
    assert fact["verdict"] == "true by construction"
    against = judge(_claim(evidence="structural"), {"a": _metric(Value.exact(5), Value.exact(1))})
    assert against["verdict"] == "false by construction"
    won = judge(_claim(min_effect=0.1), {"a": _measured([1, 1], [5, 5])})
    unmeasurable = judge(_claim(evidence="not measurable here", metrics=[], would_measure="w"), {})
    assert unmeasurable["verdict"] == "not measurable here" and unmeasurable["reason"] == "w"
    assert headline([fact, against, won, unmeasurable]) == {
        "measured": {"supported": 1}, "structural": 2, "not measurable here": 1}


def test_a_mirror_is_judged_once_with_its_claim() -> None:
    same = {"claim": "Costs more", "side": "microservices", "kind": "con", "holds_if": LOWER}
    opposite = {"claim": "Faster", "side": "microservices", "kind": "pro",
                "holds_if": "monolith > microservices"}
    metrics = {"a": _measured([1, 1], [5, 5])}
    row = judge(_claim(min_effect=0.1, mirror=same), metrics)
    assert [n["verdict"] for n in row["names"]] == ["supported", "supported"]
    row = judge(_claim(min_effect=0.1, mirror=opposite), metrics)
    assert [n["verdict"] for n in row["names"]] == ["supported", "refuted"]
    with pytest.raises(ValueError, match="mirror compares other architectures"):
        _claim(mirror={**same, "holds_if": "monolith-solo < microservices"})


@pytest.mark.parametrize(("fields", "message"), [
    ({"evidence": None, "metrics": ["processes", "total_rss_mib"]}, "declare `evidence`"),
    ({"evidence": "structural", "metrics": ["processes", "total_rss_mib"]},
     "declared structural, but total_rss_mib is not"),
    ({"evidence": "measured", "metrics": []}, "a measured claim names its metrics"),
    ({"evidence": "not measurable here", "metrics": []}, "says what `would_measure` it"),
    ({"evidence": "not measurable here", "metrics": ["processes"], "would_measure": "x"},
     "names no metric"),
])
def test_a_claim_evidence_must_fit_its_metrics(fields: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        _claim(**fields)


def test_a_claim_without_declared_evidence_takes_its_metrics_kind() -> None:
    assert _claim(evidence=None, metrics=["processes", "ports"]).kind_of_evidence == "structural"
    assert _claim(evidence=None, metrics=["cold_start_s"]).kind_of_evidence == "measured"


def test_a_claim_compares_the_two_architectures_it_names() -> None:
    three = Metric("m", "", "structural", "t", "", {
        "monolith": Value.exact(4), "microservices": Value.exact(9), "monolith-solo": Value.exact(2)})
    solo = judge_metric(three, "monolith-solo < monolith", 0.05)
    assert solo["verdict"] == "supported" and solo["note"] == "monolith-solo lower by 50%"
    assert set(solo) == {"verdict", "note", "monolith-solo", "monolith"}
    assert judge_metric(three, "microservices > monolith-solo", 0.05)["verdict"] == "supported"


def test_a_claim_naming_an_architecture_absent_from_the_run_is_not_evaluated() -> None:
    claim = _claim(side="monolith-solo", holds_if="monolith-solo < monolith", evidence="structural")
    row = judge(claim, {"a": _metric(Value.exact(1), Value.exact(2))})
    assert row["verdict"] == "not evaluated"


@pytest.mark.parametrize(("holds_if", "side", "message"), [
    ("monolith < monolith", "monolith", "compares monolith with itself"),
    ("monolith << microservices", "monolith", "expected 'A < B' or 'A > B'"),
    ("monolith < microservices", "mainframe", "'mainframe' is neither monolith nor microservices"),
])
def test_a_claim_must_name_two_architectures_and_argue_for_one(holds_if: str, side: str,
                                                                message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _claim(side=side, holds_if=holds_if)


@pytest.mark.parametrize(("edit", "message"), [
    ({"claims": [{"claim": "x", "side": "monolith", "kind": "pro", "metrics": ["nope"],
                  "holds_if": LOWER}]}, "claims.0.metrics.0: unknown metric 'nope'"),
    ({"claims": [{"claim": "x", "side": "monolith", "kind": "pro", "metrics": ["processes"],
                  "holds_if": LOWER, "colour": "red"}]}, "claims.0.colour: unknown key"),
    ({"claims": [{"claim": "x", "side": "both", "kind": "pro", "metrics": ["processes"],
                  "holds_if": LOWER}]}, "claims.0.side"),
    ({"claims": [{"claim": "x", "side": "monolith", "kind": "pro", "evidence": "measured",
                  "metrics": ["processes"], "holds_if": LOWER}]},
     "claims.0: declared measured, but processes is not"),
])
def test_a_bad_claims_file_names_the_key(tmp_path: Path, edit: dict, message: str) -> None:
    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump(edit))
    with pytest.raises(HarnessError, match=message.replace(".", r"\.")):
        load_claims(path)


def _faulted_run(root: Path, arch: str, repeat: int, violations: int, injected: bool = True) -> None:
    folder = root / "runs" / arch / f"r{repeat}" / "s0"
    folder.mkdir(parents=True)
    fault = {"index": 0, "action": "kill", "target": arch, **({"started_epoch": 1.0} if injected else {})}
    (folder / "faults.json").write_text(json.dumps({"faults": [fault]}))
    (folder / "check.json").write_text(json.dumps({"totals": {"violations": violations}}))


def test_mistakes_are_the_violations_found_after_the_runs_that_had_faults(tmp_path: Path) -> None:
    for repeat, (mono, micro) in enumerate([(3, 0), (5, 0)]):
        _faulted_run(tmp_path, "monolith", repeat, mono)
        _faulted_run(tmp_path, "microservices", repeat, micro)
    _faulted_run(tmp_path, "monolith", 2, 99, injected=False)  # its fault never happened
    found = collect_metrics(tmp_path)["fault_violations"].values
    assert found["monolith"] == Value(4, 3, 5, 2, MIN_MAX)
    assert found["microservices"] == Value(0, 0, 0, 2, MIN_MAX)
    claim = _claim(holds_if="monolith > microservices", side="microservices",
                   metrics=["fault_violations"], min_effect=0.1)
    assert judge(claim, collect_metrics(tmp_path))["verdict"] == "supported"


def test_without_faults_mistakes_are_not_evaluated_and_say_why(tmp_path: Path) -> None:
    claim = _claim(metrics=["fault_violations"], min_effect=0.1)
    row = judge(claim, {})
    assert row["verdict"] == "not evaluated" and "no run of this folder had faults" in row["reason"]


def test_the_scorecard_records_its_revision_and_no_path_of_this_machine(tmp_path: Path) -> None:
    (tmp_path / "environment.json").write_text(json.dumps({"git_revision": "abc123"}))
    (tmp_path / "aggregate.csv").write_text(
        "architecture,step,repeats,operation,p50_ms,p50_ms_min,p50_ms_max\n"
        "monolith,0,2,book_e2e,10,9,11\nmicroservices,0,2,book_e2e,30,28,33\n")
    claims = tmp_path / "elsewhere" / "mine.yaml"
    claims.parent.mkdir()
    claims.write_text(yaml.safe_dump({"claims": [
        {"claim": "Faster bookings", "side": "monolith", "kind": "pro", "holds_if": LOWER,
         "metrics": ["book_e2e_p50_ms"], "min_effect": 0.1}]}))
    card = scorecard(tmp_path, claims)
    assert card["claims"][0]["verdict"] == "supported"
    assert card["headline"] == {"measured": {"supported": 1}, "structural": 0,
                                "not measurable here": 0}
    assert card["claims_file"] == "mine.yaml"
    assert card["provenance"]["by"] == "archbench scorecard" and card["provenance"]["regenerated"]
    assert card["provenance"]["run_revision"] == "abc123"
    recorded = json.loads((tmp_path / "provenance.json").read_text())
    assert set(recorded["files"]) == {"scorecard.json", "scorecard.csv"}
    assert str(tmp_path) not in (tmp_path / "scorecard.json").read_text()


def test_a_failed_step_after_the_runs_is_recorded_and_an_interrupt_goes_on(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from harness.pipeline.steps import after_the_runs as _after_the_runs

    def broken(_: object) -> None:
        raise RuntimeError("no grimp here")

    def interrupted(_: object) -> None:
        raise KeyboardInterrupt

    console = Console(file=io.StringIO())
    _after_the_runs("audit", tmp_path / "audit", broken, console)
    assert (tmp_path / "audit" / "error.txt").read_text() == "RuntimeError: no grimp here\n"
    with pytest.raises(KeyboardInterrupt):
        _after_the_runs("simulation", tmp_path / "sim", interrupted, console)
    assert "interrupted" in (tmp_path / "sim" / "error.txt").read_text()
