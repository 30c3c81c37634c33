"""compare(): B relative to A per architecture x step x operation and percentile, each figure with its
bootstrap interval and each ratio judged by the interval of the ratio."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.config.errors import HarnessError
from harness.report import build, compare
from harness.results.spread import DASH, TIMES
from harness.results.stats import TOO_FEW
from tests.support.report_fixtures import BASE_P50_MS, build_run_folder


def slower_book_e2e_in_microservices(architecture: str, repeat: int, step: int, operation: str) -> float:
    jitter = (1.0, 1.03, 0.97)[repeat]
    factor = 2.0 if (architecture, operation) == ("microservices", "book_e2e") else 1.0
    return BASE_P50_MS[operation] * factor * jitter


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    a = build_run_folder(tmp_path_factory.mktemp("a"), scale={"monolith": 1.0, "microservices": 1.0})
    b = build_run_folder(tmp_path_factory.mktemp("b"), latency=slower_book_e2e_in_microservices)
    build(a.root)  # B is compared without a built report: its aggregate is computed afresh
    return a.root, b.root


def _row(markdown: str, architecture: str, operation: str, percentile: str) -> list[str]:
    prefix = f"| {architecture} | {operation} | {percentile} |"
    line = next(line for line in markdown.splitlines() if line.startswith(prefix))
    return [cell.strip() for cell in line.strip("|").split("|")]


def _ratio(cell: str) -> tuple[float, float, float]:
    found = re.search(r"([\d.]+)" + TIMES + r" \[([\d.]+)" + DASH + r"([\d.]+)\]", cell)
    assert found, cell
    return float(found[1]), float(found[2]), float(found[3])


def test_a_changed_operation_gets_a_ratio_with_its_interval(runs: tuple[Path, Path]) -> None:
    markdown = compare(*runs)
    for percentile in ("p50", "p90"):
        cell = _row(markdown, "microservices", "book_e2e", percentile)[5]
        assert not cell.startswith("not significant"), cell
        ratio, low, high = _ratio(cell)
        assert ratio == 2.0 and 1.7 < low < 2.0 < high < 2.3, cell
    assert "microservices s0 book_e2e p50:" in markdown.split("## Significant differences")[1]


def test_an_unchanged_operation_is_not_significant(runs: tuple[Path, Path]) -> None:
    markdown = compare(*runs)
    for architecture, operation, percentile in (("monolith", "book_e2e", "p50"),
                                                ("microservices", "search_availability", "p99")):
        cell = _row(markdown, architecture, operation, percentile)[5]
        assert cell.startswith(f"not significant (1.00{TIMES} ["), cell
        _, low, high = _ratio(cell)
        assert low < 1 < high, cell  # two independent bootstraps, even of the same data
    assert "search_availability p50:" not in markdown.split("## Significant differences")[1]


def test_a_percentile_too_small_in_both_runs_is_left_out(runs: tuple[Path, Path]) -> None:
    markdown = compare(*runs)
    # 600 bookings per run: a p90 (100 needed), no p99 (1,000) nor p99.9 (10,000)
    assert _row(markdown, "monolith", "book_e2e", "p90")
    assert not any(line.startswith(("| monolith | book_e2e | p99 |", "| monolith | book_e2e | p99.9 |"))
                   for line in markdown.splitlines())


def test_a_percentile_too_small_in_one_run_is_not_compared(tmp_path: Path) -> None:
    short = build_run_folder(tmp_path / "short", duration_s=20.0)  # 200 searches per run: no p99
    long = build_run_folder(tmp_path / "long", duration_s=60.0)  # 1,200: a p99
    cells = _row(compare(short.root, long.root), "monolith", "search_availability", "p99")
    assert cells[3] == TOO_FEW and cells[5] == TOO_FEW
    assert re.fullmatch(r"[\d.]+ \[[\d.]+" + DASH + r"[\d.]+\]", cells[4]), cells


def test_compare_names_both_runs_and_their_metadata(runs: tuple[Path, Path]) -> None:
    markdown = compare(*runs)
    assert f"**A**: `{runs[0]}`" in markdown and f"**B**: `{runs[1]}`" in markdown
    assert "git `abc1234`" in markdown
    assert "warm-up of 10.0 s discarded" in markdown


def test_compare_refuses_a_folder_that_is_not_a_run(runs: tuple[Path, Path], tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match="not a run folder"):
        compare(runs[0], tmp_path)
