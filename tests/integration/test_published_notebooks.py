"""notebooks/publish.py executes a notebook in a Jupyter kernel against a run folder and writes it
as HTML into the folder's notebooks/, recording which revision did."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from harness.results import provenance
from tests.support.paths import NOTEBOOKS, SAMPLE

pytestmark = pytest.mark.integration


def _publisher() -> ModuleType:  # notebooks/ is no package: load the script as a module
    spec = importlib.util.spec_from_file_location("publish", NOTEBOOKS / "publish.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_notebook_is_published_with_its_figures_and_its_revision(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "run"
    shutil.copytree(SAMPLE, run, ignore=shutil.ignore_patterns("notebooks"))
    for name in ("ARCHBENCH_RUN_DIR", "ARCHBENCH_CALIBRATION"):
        monkeypatch.delenv(name, raising=False)
    page = _publisher().publish(NOTEBOOKS / "01-latency.ipynb", run, timeout=300)
    assert page == run / "notebooks" / "01-latency.html"
    html = page.read_text()
    assert html.count("data:image/png;base64,") >= 2 and "warm-up of" in html
    assert str(tmp_path) not in html
    assert provenance.read(run)["files"]["notebooks/01-latency.html"]["by"] == "make notebooks"
