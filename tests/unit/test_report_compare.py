"""compare(): B relative to A per architecture x step x operation, with spread and significance."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config.errors import HarnessError
from harness.report import build, compare
from harness.results.spread import DASH, TIMES
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


def _row(markdown: str, architecture: str, operation: str) -> list[str]:
    prefix = f"| {architecture} | {operation} |"
    line = next(line for line in markdown.splitlines() if line.startswith(prefix))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_a_changed_operation_gets_a_ratio_with_its_range(runs: tuple[Path, Path]) -> None:
    markdown = compare(*runs)
    cells = _row(markdown, "microservices", "book_e2e")
    assert cells[4] == f"2.00{TIMES} (1.88{DASH}2.12)"
    assert cells[7] == f"2.00{TIMES} (1.88{DASH}2.12)"
    assert "microservices s0 book_e2e p99:" in markdown.split("## Significant differences")[1]


def test_an_unchanged_operation_is_not_significant(runs: tuple[Path, Path]) -> None:
    markdown = compare(*runs)
    assert _row(markdown, "monolith", "book_e2e")[4] == f"not significant (1.00{TIMES})"
    assert _row(markdown, "microservices", "search_availability")[7] == f"not significant (1.00{TIMES})"


def test_compare_names_both_runs_and_their_metadata(runs: tuple[Path, Path]) -> None:
    markdown = compare(*runs)
    assert f"**A**: `{runs[0]}`" in markdown and f"**B**: `{runs[1]}`" in markdown
    assert "git `abc1234`" in markdown
    assert "warm-up of 10.0 s discarded" in markdown


def test_compare_refuses_a_folder_that_is_not_a_run(runs: tuple[Path, Path], tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match="not a run folder"):
        compare(runs[0], tmp_path)
