"""notebooks/02-simulation.ipynb runs a what-if end to end from the committed sample's calibration, and
only reads the run folder."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "02-simulation.ipynb"
SAMPLE = ROOT / "results" / "sample"


def _files(root: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def test_the_simulation_notebook_runs_a_whatif_from_the_sample_calibration() -> None:
    assert (SAMPLE / "calibration.yaml").is_file(), "the committed sample run carries its calibration"
    before = _files(SAMPLE)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "calibration from" in text
    assert "ms per ms of round trip" in text and "cross-overs:" in text
    for arch in ("monolith", "microservices"):
        assert text.count(arch) >= 5  # one table row per round trip value
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) == 1
    assert _files(SAMPLE) == before


def test_the_simulation_notebook_is_stored_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
