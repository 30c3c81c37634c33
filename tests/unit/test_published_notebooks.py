"""Every notebook is published, executed against the committed sample, as HTML beside its report
(`make notebooks`, notebooks/publish.py), and provenance.json says which revision ran it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.results import provenance
from tests.support.notebooks import stored_without_outputs
from tests.support.paths import NOTEBOOKS, SAMPLE

PUBLISHED = SAMPLE / "notebooks"


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_each_notebook_is_committed_bare_and_published_with_its_outputs(notebook: Path) -> None:
    assert stored_without_outputs(notebook)
    page = PUBLISHED / f"{notebook.stem}.html"
    assert page.is_file(), "run `make notebooks` and commit results/sample/notebooks/"
    html = page.read_text()
    assert f"notebooks/{notebook.name}" in html and "executed against" in html
    assert "data:image/png;base64," in html  # its figures, inline
    stamp = provenance.read(SAMPLE)["files"][f"notebooks/{notebook.stem}.html"]
    assert stamp["by"] == "make notebooks" and stamp["revision"][:12] in html


def test_no_page_is_left_for_a_notebook_that_no_longer_exists() -> None:
    assert {p.stem for p in PUBLISHED.glob("*.html")} == {p.stem for p in NOTEBOOKS.glob("*.ipynb")}
