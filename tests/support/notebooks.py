"""Running a notebook the way a reader would, and checking it left its inputs untouched."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient


def file_times(root: Path) -> dict[Path, int]:
    """Every file below `root` with its modification time: equal before and after = only read."""
    return {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def execute(path: Path, timeout: int = 120) -> list[Any]:
    """Execute the notebook in its own folder; the outputs of every code cell, in order."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]


def stored_without_outputs(path: Path) -> bool:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    return all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


@dataclass(frozen=True)
class Reading:
    text: str  # everything the code cells printed
    images: int  # PNG figures shown


def run_reading(path: Path, folder: Path, timeout: int = 120) -> Reading:
    """Execute the notebook as a reader would: no cell may fail, and `folder` (the run folder it
    reads) must be left untouched."""
    before = file_times(folder)
    outputs = execute(path, timeout)
    assert not [o for o in outputs if o.output_type == "error"]
    assert file_times(folder) == before
    return Reading("".join(o.get("text", "") for o in outputs if o.output_type == "stream"),
                   sum(1 for o in outputs if "image/png" in o.get("data", {})))
