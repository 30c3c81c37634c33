"""notebooks/03-coupling.ipynb reads the committed sample's audit and scorecard, judges a claim of
its own, and only reads the run folder."""

from __future__ import annotations

from pathlib import Path

from tests.notebooks import run_reading, stored_without_outputs

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "03-coupling.ipynb"
SAMPLE = ROOT / "results" / "sample"


def test_the_coupling_notebook_reads_the_sample_audit_and_scorecard() -> None:
    assert (SAMPLE / "audit" / "audit.json").is_file(), "the committed sample run carries its audit"
    ran = run_reading(NOTEBOOK, SAMPLE, timeout=300)
    text = ran.text
    assert "live: True" in text
    assert "cross-context imports" in text and "mean blast radius" in text
    for operation in ("book", "cancel", "search"):
        assert f"{operation} " in text
    assert "A booking costs the microservices more messages: supported" in text
    assert ran.images == 1


def test_the_coupling_notebook_is_stored_without_outputs() -> None:
    assert stored_without_outputs(NOTEBOOK)
