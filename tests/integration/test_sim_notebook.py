"""notebooks/02-simulation.ipynb, in a Jupyter kernel, runs a what-if end to end from the committed
sample's calibration, and only reads the run folder."""

from __future__ import annotations

import pytest

from tests.support.notebooks import run_reading
from tests.support.paths import NOTEBOOKS, SAMPLE

pytestmark = pytest.mark.integration

NOTEBOOK = NOTEBOOKS / "02-simulation.ipynb"


def test_the_simulation_notebook_runs_a_whatif_from_the_sample_calibration() -> None:
    assert (SAMPLE / "calibration.yaml").is_file(), "the committed sample run carries its calibration"
    ran = run_reading(NOTEBOOK, SAMPLE, timeout=300)
    text = ran.text
    assert "calibration from" in text
    assert "ms per ms of round trip" in text and "cross-overs:" in text
    for arch in ("monolith", "microservices"):
        assert text.count(arch) >= 5  # one table row per round trip value
    assert ran.images == 1
