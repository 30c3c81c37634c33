"""notebooks/01-latency.ipynb runs end to end in a Jupyter kernel against a run folder, and only reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.report import build
from tests.support.notebooks import run_reading
from tests.support.paths import NOTEBOOKS, SAMPLE
from tests.support.report_fixtures import build_run_folder

pytestmark = pytest.mark.integration

NOTEBOOK = NOTEBOOKS / "01-latency.ipynb"


def test_the_latency_notebook_runs_against_a_run_folder_and_only_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synthetic = build_run_folder(tmp_path / "run", rates=(50.0, 100.0), repeats=2)
    build(synthetic.root)
    monkeypatch.setenv("ARCHBENCH_RUN_DIR", str(synthetic.root))
    ran = run_reading(NOTEBOOK, synthetic.root)
    assert "warm-up of 10.0 s discarded" in ran.text
    assert "56 rows: 2 repeat(s), 2 step(s)" in ran.text
    assert ran.images == 4  # percentile bars and latency over time, for each of the two steps


def test_the_latency_notebook_runs_against_the_committed_sample_run() -> None:
    # the notebook's default RUN_DIR is the sample; no environment override here
    assert run_reading(NOTEBOOK, SAMPLE).images == 2
