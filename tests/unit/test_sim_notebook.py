"""notebooks/02-simulation.ipynb runs a what-if end to end from the committed sample's calibration, and
only reads the run folder."""

from __future__ import annotations

from pathlib import Path

from tests.notebooks import execute, file_times, stored_without_outputs

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "02-simulation.ipynb"
SAMPLE = ROOT / "results" / "sample"


def test_the_simulation_notebook_runs_a_whatif_from_the_sample_calibration() -> None:
    assert (SAMPLE / "calibration.yaml").is_file(), "the committed sample run carries its calibration"
    before = file_times(SAMPLE)
    outputs = execute(NOTEBOOK, timeout=300)
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "calibration from" in text
    assert "ms per ms of round trip" in text and "cross-overs:" in text
    for arch in ("monolith", "microservices"):
        assert text.count(arch) >= 5  # one table row per round trip value
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) == 1
    assert file_times(SAMPLE) == before


def test_the_simulation_notebook_is_stored_without_outputs() -> None:
    assert stored_without_outputs(NOTEBOOK)
