"""Every figure carries its spread; a ratio to the monolith when ranges are apart, "not significant"
when they overlap."""

from __future__ import annotations

from pathlib import Path

from harness.report import build
from harness.results.spread import DASH, TIMES, Estimate, ratio_cell, relative
from tests.support.report_fixtures import build_run_folder


def _sentence(report: str, operation: str) -> str:
    return next(line for line in report.splitlines() if line.startswith(f"- {operation} (microservices)"))


def test_separated_ranges_give_a_ratio_with_its_range(tmp_path: Path) -> None:
    synthetic = build_run_folder(tmp_path, scale={"monolith": 1.0, "microservices": 2.5})
    build(synthetic.root)
    sentence = _sentence((synthetic.root / "report.md").read_text(), "book_e2e")
    # jitter 0.97-1.03 on both: ratio 2.5, range 2.5 x 0.97/1.03 to 2.5 x 1.03/0.97
    assert f"p99 158 ms ± 4.74 (3 repeats), 2.50{TIMES} the monolith (2.35{DASH}2.66)" in sentence
    assert "not significant" not in sentence


def test_overlapping_ranges_are_not_significant(tmp_path: Path) -> None:
    synthetic = build_run_folder(tmp_path, scale={"monolith": 1.0, "microservices": 1.02})
    build(synthetic.root)
    report = (synthetic.root / "report.md").read_text()
    sentence = _sentence(report, "book_e2e")
    assert "p50 20.4 ms ± 0.61 (3 repeats), not significant against the monolith" in sentence
    assert TIMES not in sentence
    assert "not significant" in (synthetic.root / "report.html").read_text()


def test_a_single_repeat_does_not_claim_significance(tmp_path: Path) -> None:
    synthetic = build_run_folder(tmp_path, repeats=1)
    build(synthetic.root)
    sentence = _sentence((synthetic.root / "report.md").read_text(), "book")
    assert f"(1 repeat), 2.50{TIMES} the monolith (single repeat: significance unknown)" in sentence


def test_estimates_overlap_only_when_their_ranges_meet() -> None:
    a = Estimate(10.0, 9.0, 11.0, 3)
    assert a.overlaps(Estimate(12.0, 11.0, 13.0, 3))
    assert not a.overlaps(Estimate(12.0, 11.5, 13.0, 3))
    assert a.describe() == "10.0 ms ± 1.00 (3 repeats)"


def test_ratio_ranges_take_the_extremes_of_both_ranges() -> None:
    reference = Estimate(10.0, 8.0, 12.0, 3)
    value = Estimate(30.0, 24.0, 36.0, 3)
    assert relative(value, reference, "monolith") == f"3.00{TIMES} the monolith (2.00{DASH}4.50)"
    assert ratio_cell(value, reference) == f"3.00{TIMES} (2.00{DASH}4.50)"
    assert ratio_cell(Estimate(11.0, 10.0, 13.0, 3), reference) == f"not significant (1.10{TIMES})"
