"""notebooks/03-coupling.ipynb, in a Jupyter kernel, reads the committed sample's audit and scorecard,
judges a claim of its own, and only reads the run folder."""

from __future__ import annotations

import pytest

from tests.support.notebooks import run_reading
from tests.support.paths import NOTEBOOKS, SAMPLE

pytestmark = pytest.mark.integration

NOTEBOOK = NOTEBOOKS / "03-coupling.ipynb"


def test_the_coupling_notebook_reads_the_sample_audit_and_scorecard() -> None:
    assert (SAMPLE / "audit" / "audit.json").is_file(), "the committed sample run carries its audit"
    ran = run_reading(NOTEBOOK, SAMPLE, timeout=300)
    text = ran.text
    assert "live: True" in text
    assert "cross-context imports" in text and "mean blast radius" in text
    for operation in ("book", "cancel", "search"):
        assert f"{operation} " in text
    assert "A booking costs the microservices more messages: true by construction" in text
    assert ran.images == 1
