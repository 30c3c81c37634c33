"""notebooks/01-latency.ipynb runs end to end against a run folder, and only reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.report import build
from tests.notebooks import execute, file_times, stored_without_outputs
from tests.report_fixtures import build_run_folder

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "01-latency.ipynb"


def test_the_latency_notebook_runs_against_a_run_folder_and_only_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synthetic = build_run_folder(tmp_path / "run", rates=(50.0, 100.0), repeats=2)
    build(synthetic.root)
    before = file_times(synthetic.root)
    monkeypatch.setenv("ARCHBENCH_RUN_DIR", str(synthetic.root))
    outputs = execute(NOTEBOOK)
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "warm-up of 10.0 s discarded" in text
    assert "56 rows: 2 repeat(s), 2 step(s)" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 4  # percentile bars and latency over time, for each of the two steps
    assert file_times(synthetic.root) == before


def test_the_notebook_is_stored_without_outputs() -> None:
    assert stored_without_outputs(NOTEBOOK)


def test_the_latency_notebook_runs_against_the_committed_sample_run() -> None:
    sample = NOTEBOOK.parents[1] / "results" / "sample"
    before = file_times(sample)
    # the notebook's default RUN_DIR is the sample; no environment override here
    outputs = execute(NOTEBOOK)
    assert not [o for o in outputs if o.output_type == "error"]
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) == 2
    assert file_times(sample) == before
