"""The committed run folders rebuild the same tables with this code: summary.csv, aggregate.csv
and the report's Markdown (plots apart), so a change of layout cannot quietly change a number."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.report import build

RESULTS = Path(__file__).resolve().parents[2] / "results"
TABLES = ("summary.csv", "aggregate.csv", "report.md")


@pytest.mark.parametrize("name", ["sample", "sweep-reference", "sweep-low"])
def test_a_committed_run_rebuilds_the_same_tables_and_report(tmp_path: Path, name: str) -> None:
    copy = tmp_path / name
    shutil.copytree(RESULTS / name, copy)
    for table in TABLES:
        (copy / table).unlink()

    build(copy)

    for table in TABLES:
        rebuilt = _written((copy / table).read_text().replace(str(copy), str(RESULTS / name)))
        assert rebuilt == _written((RESULTS / name / table).read_text()), f"{name}/{table} changed"


def _written(text: str) -> str:
    """The text without the line saying which revision wrote it, and when."""
    return "\n".join(line for line in text.splitlines()
                     if not line.startswith("Report written by revision"))
