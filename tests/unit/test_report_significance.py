"""Every figure carries its interval; a ratio to the monolith with the bootstrap interval of the ratio,
"not significant" when that interval includes 1, and "n too small" for a percentile the sample cannot
support."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from harness.report import build
from harness.results.spread import DASH, TIMES, Estimate, compare, ratio_cell, relative
from harness.results.stats import TOO_FEW
from tests.support.report_fixtures import build_run_folder

RATIO = r"([\d.]+)" + TIMES + r" the monolith \[([\d.]+)" + DASH + r"([\d.]+)\]"


def _sentence(report: str, operation: str) -> str:
    return next(line for line in report.splitlines() if line.startswith(f"- {operation} (microservices)"))


def _row(report: str, architecture: str, operation: str) -> list[str]:
    line = next(line for line in report.splitlines() if line.startswith(f"| {architecture} | {operation} |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_a_clear_difference_gives_a_ratio_with_its_interval(tmp_path: Path) -> None:
    synthetic = build_run_folder(tmp_path, scale={"monolith": 1.0, "microservices": 2.5})
    build(synthetic.root)
    sentence = _sentence((synthetic.root / "report.md").read_text(), "book_e2e")
    assert sentence.startswith("- book_e2e (microservices) p50 50.0 ms [")
    ratios = re.findall(RATIO, sentence)
    assert len(ratios) == 2, sentence  # p50 and p90; p99 and p99.9 need more than 600 bookings
    for ratio, low, high in ratios:
        assert float(ratio) == 2.5 and 2.0 < float(low) < 2.5 < float(high) < 3.0, sentence
    assert "not significant" not in sentence


def test_a_small_difference_is_not_significant(tmp_path: Path) -> None:
    synthetic = build_run_folder(tmp_path, scale={"monolith": 1.0, "microservices": 1.02})
    build(synthetic.root)
    report = (synthetic.root / "report.md").read_text()
    sentence = _sentence(report, "book_e2e")
    assert "p50 20.4 ms [" in sentence
    assert f"(3 repeats), not significant against the monolith (1.02{TIMES} [" in sentence
    assert not re.findall(RATIO, sentence), sentence
    assert "not significant" in (synthetic.root / "report.html").read_text()


def test_a_single_repeat_does_not_claim_significance(tmp_path: Path) -> None:
    synthetic = build_run_folder(tmp_path, repeats=1)
    build(synthetic.root)
    sentence = _sentence((synthetic.root / "report.md").read_text(), "book")
    assert f"(1 repeat), 2.50{TIMES} the monolith (single repeat: significance unknown)" in sentence


def test_a_small_sample_p99_reads_n_too_small_and_is_never_printed(tmp_path: Path) -> None:
    # 25 s at 20 req/s: 100 bookings and 200 searches per run, as in the quickstart
    synthetic = build_run_folder(tmp_path, rates=(20.0,), duration_s=25.0, repeats=2)
    build(synthetic.root)
    report = (synthetic.root / "report.md").read_text()
    header = _row(report, "architecture", "operation")
    book = dict(zip(header, _row(report, "monolith", "book"), strict=True))
    assert book["requests"] == "100"
    assert book["p99 ms"] == TOO_FEW and book["p99.9 ms"] == TOO_FEW
    assert re.fullmatch(r"[\d.]+ \[[\d.]+" + DASH + r"[\d.]+\]", book["p50 ms"]), book
    assert "p99, p99.9: n too small (100 requests per run)" in _sentence(report, "book")
    p99 = synthetic.percentile_ms("monolith", 0, 0, "book", 99)
    assert f"{p99:.1f}" not in report and f"{p99:.2f}" not in report
    aggregate = pd.read_csv(synthetic.root / "aggregate.csv").query("operation == 'book'")
    for suffix in ("", "_lo", "_hi", "_min", "_max"):
        assert aggregate[f"p99_ms{suffix}"].isna().all(), suffix
    assert aggregate["p50_ms_lo"].notna().all()
    summary = pd.read_csv(synthetic.root / "summary.csv").query("operation == 'book'")
    # each run's own value stays, without an interval
    assert summary["p99_ms"].notna().all() and summary["p99_ms_lo"].isna().all()


def test_every_supported_percentile_has_an_interval_around_it(tmp_path: Path) -> None:
    synthetic = build_run_folder(tmp_path)
    build(synthetic.root)
    aggregate = pd.read_csv(synthetic.root / "aggregate.csv")
    search = aggregate.query("operation == 'search_availability'")  # 1,200 per run: up to p99
    for metric in ("p50_ms", "p90_ms", "p99_ms"):
        assert (search[f"{metric}_lo"] < search[metric]).all()
        assert (search[metric] < search[f"{metric}_hi"]).all()
    assert search["p999_ms"].isna().all()


def test_estimates_overlap_only_when_their_intervals_meet() -> None:
    a = Estimate(10.0, 9.0, 11.0, 3)
    assert a.overlaps(Estimate(12.0, 11.0, 13.0, 3))
    assert not a.overlaps(Estimate(12.0, 11.5, 13.0, 3))
    assert a.describe() == f"10.0 ms [9.00{DASH}11.0] (3 repeats)"
    assert Estimate(np.nan, np.nan, np.nan, 3, reason=TOO_FEW).describe() == TOO_FEW


def test_without_replicates_the_ratio_takes_the_extremes_of_both_intervals() -> None:
    reference = Estimate(10.0, 8.0, 12.0, 3)
    value = Estimate(30.0, 24.0, 36.0, 3)
    assert relative(value, reference, "monolith") == f"3.00{TIMES} the monolith [2.00{DASH}4.50]"
    assert ratio_cell(value, reference) == f"3.00{TIMES} [2.00{DASH}4.50]"
    assert ratio_cell(Estimate(11.0, 10.0, 13.0, 3), reference) == \
        f"not significant (1.10{TIMES} [0.83{DASH}1.62])"


def test_with_replicates_the_bootstrap_of_the_ratio_decides_not_the_ends() -> None:
    rng = np.random.default_rng(7)
    # intervals that overlap, but replicates of a 10% difference known to about 1%
    reference = Estimate(10.0, 9.0, 11.5, 3, replicates=rng.normal(10.0, 0.1, 1000))
    value = Estimate(11.0, 10.0, 12.0, 3, replicates=rng.normal(11.0, 0.1, 1000))
    comparison = compare(value, reference)
    assert comparison.significant
    assert 1.07 < comparison.ratio.low < 1.10 < comparison.ratio.high < 1.13
    assert not compare(value, reference, min_effect=0.2).significant
    assert ratio_cell(Estimate(np.nan, np.nan, np.nan, 3, reason=TOO_FEW), reference) == TOO_FEW
