"""notebooks/03-coupling.ipynb is stored without outputs (it runs in a Jupyter kernel in
tests/integration/test_audit_notebook.py)."""

from __future__ import annotations

from tests.support.notebooks import stored_without_outputs
from tests.support.paths import NOTEBOOKS

NOTEBOOK = NOTEBOOKS / "03-coupling.ipynb"


def test_the_coupling_notebook_is_stored_without_outputs() -> None:
    assert stored_without_outputs(NOTEBOOK)
