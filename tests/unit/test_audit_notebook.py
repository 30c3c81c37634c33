"""notebooks/03-coupling.ipynb reads the committed sample's audit and scorecard, judges a claim of
its own, and only reads the run folder."""

from __future__ import annotations

from pathlib import Path

from tests.notebooks import execute, file_times, stored_without_outputs

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "03-coupling.ipynb"
SAMPLE = ROOT / "results" / "sample"


def test_the_coupling_notebook_reads_the_sample_audit_and_scorecard() -> None:
    assert (SAMPLE / "audit" / "audit.json").is_file(), "the committed sample run carries its audit"
    before = file_times(SAMPLE)
    outputs = execute(NOTEBOOK, timeout=300)
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "live: True" in text
    assert "cross-context imports" in text and "mean blast radius" in text
    for operation in ("book", "cancel", "search"):
        assert f"{operation} " in text
    assert "A booking costs the microservices more messages: supported" in text
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) == 1
    assert file_times(SAMPLE) == before


def test_the_coupling_notebook_is_stored_without_outputs() -> None:
    assert stored_without_outputs(NOTEBOOK)
