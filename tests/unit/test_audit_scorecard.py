"""The scorecard: how one metric and one claim are judged and the claims file's errors (the CLI that
regenerates it from a run folder runs in tests/integration/test_audit_scorecard.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.audit.scorecard import (
    Claim,
    Metric,
    Value,
    judge,
    judge_metric,
    load_claims,
)
from harness.config.errors import HarnessError

LOWER = "monolith < microservices"


def _metric(mono: Value, micro: Value, exact: bool = True) -> Metric:
    return Metric("m", "", exact, "test", "", {"monolith": mono, "microservices": micro})


def test_exact_counts_need_the_minimum_effect() -> None:
    assert judge_metric(_metric(Value.exact(1), Value.exact(5)), LOWER, 0.05)["verdict"] == "supported"
    assert judge_metric(_metric(Value.exact(5), Value.exact(1)), LOWER, 0.05)["verdict"] == "refuted"
    close = judge_metric(_metric(Value.exact(100), Value.exact(103)), LOWER, 0.05)
    assert close["verdict"] == "not significant" and "3%" in close["note"]
    same = judge_metric(_metric(Value.exact(0), Value.exact(0)), LOWER, 0.05)
    assert same["verdict"] == "not significant"


def test_measurements_need_separate_ranges_over_repeats() -> None:
    once = judge_metric(_metric(Value.of([10]), Value.of([30]), exact=False), LOWER, 0.05)
    assert once["verdict"] == "not significant" and "once" in once["note"]
    overlap = judge_metric(_metric(Value.of([10, 25]), Value.of([20, 30]), exact=False), LOWER, 0.05)
    assert overlap["verdict"] == "not significant" and "overlap" in overlap["note"]
    apart = judge_metric(_metric(Value.of([10, 12]), Value.of([20, 30]), exact=False), LOWER, 0.05)
    assert apart["verdict"] == "supported"
    tiny = judge_metric(_metric(Value.of([10, 10.1]), Value.of([10.2, 10.3]), exact=False),
                        LOWER, 0.05)
    assert tiny["verdict"] == "not significant"  # separate ranges, but a 2% difference


def test_a_missing_metric_is_not_evaluated() -> None:
    only_one = Metric("m", "", True, "t", "", {"monolith": Value.exact(1)})
    assert judge_metric(only_one, LOWER, 0.05)["verdict"] == "not evaluated"
    assert judge_metric(None, LOWER, 0.05)["verdict"] == "not evaluated"


def test_a_claim_needs_its_significant_metrics_to_agree() -> None:
    claim = Claim(claim="c", side="monolith", kind="pro", metrics=["a", "b", "c"], holds_if=LOWER)
    metrics = {
        "a": _metric(Value.exact(1), Value.exact(2)),
        "b": _metric(Value.exact(1), Value.exact(1)),
        "c": _metric(Value.exact(3), Value.exact(1)),
    }
    row = judge(claim, metrics)
    assert row["verdict"] == "not significant" and "disagree" in row["reason"]
    agree = judge(claim, {**metrics, "c": _metric(Value.exact(1), Value.exact(9))})
    assert agree["verdict"] == "supported" and "b not significant" in agree["reason"]


def test_a_claim_compares_the_two_architectures_it_names() -> None:
    three = Metric("m", "", True, "t", "", {"monolith": Value.exact(4), "microservices": Value.exact(9),
                                             "monolith-solo": Value.exact(2)})
    solo = judge_metric(three, "monolith-solo < monolith", 0.05)
    assert solo["verdict"] == "supported" and solo["note"] == "monolith-solo lower by 50%"
    assert set(solo) == {"verdict", "note", "monolith-solo", "monolith"}
    assert judge_metric(three, "microservices > monolith-solo", 0.05)["verdict"] == "supported"


def test_a_claim_naming_an_architecture_absent_from_the_run_is_not_evaluated() -> None:
    claim = Claim(claim="c", side="monolith-solo", kind="pro", metrics=["a"],
                  holds_if="monolith-solo < monolith")
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
        Claim(claim="c", side=side, kind="pro", metrics=["a"], holds_if=holds_if)


def test_the_shipped_claims_cover_both_sides() -> None:
    claims = load_claims()
    assert {c.side for c in claims} == {"monolith", "microservices"}
    assert len(claims) == 12


@pytest.mark.parametrize(("edit", "message"), [
    ({"claims": [{"claim": "x", "side": "monolith", "kind": "pro", "metrics": ["nope"],
                  "holds_if": LOWER}]}, "claims.0.metrics.0: unknown metric 'nope'"),
    ({"claims": [{"claim": "x", "side": "monolith", "kind": "pro", "metrics": ["processes"],
                  "holds_if": LOWER, "colour": "red"}]}, "claims.0.colour: unknown key"),
    ({"claims": [{"claim": "x", "side": "both", "kind": "pro", "metrics": ["processes"],
                  "holds_if": LOWER}]}, "claims.0.side"),
])
def test_a_bad_claims_file_names_the_key(tmp_path: Path, edit: dict, message: str) -> None:
    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump(edit))
    with pytest.raises(HarnessError, match=message.replace(".", r"\.")):
        load_claims(path)


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
