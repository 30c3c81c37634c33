"""notebooks/01-latency.ipynb runs end to end against a run folder, and only reads it."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from harness.report import build
from tests.report_fixtures import build_run_folder

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "01-latency.ipynb"


def _files(root: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def test_the_latency_notebook_runs_against_a_run_folder_and_only_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synthetic = build_run_folder(tmp_path / "run", rates=(50.0, 100.0), repeats=2)
    build(synthetic.root)
    before = _files(synthetic.root)
    monkeypatch.setenv("ARCHBENCH_RUN_DIR", str(synthetic.root))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "warm-up of 10.0 s discarded" in text
    assert "56 rows: 2 repeat(s), 2 step(s)" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 4  # percentile bars and latency over time, for each of the two steps
    assert _files(synthetic.root) == before


def test_the_notebook_is_stored_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


def test_the_latency_notebook_runs_against_the_committed_sample_run() -> None:
    sample = NOTEBOOK.parents[1] / "results" / "sample"
    before = _files(sample)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # the notebook's default RUN_DIR is the sample; no environment override here
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) == 2
    assert _files(sample) == before
