"""Reading what a step after the runs left in the run folder (the simulation, the audit, the
scorecard): its failure, or its JSON, or a notice saying why the report cannot show it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.report.render import Block, Heading, Notice


def failure(folder: Path, heading: str, step: str) -> list[Block]:
    """The step's error.txt as a notice under `heading`; nothing when the step did not fail."""
    error = folder / "error.txt"
    if not error.is_file():
        return []
    return [Heading(heading),
            Notice(f"The {step} failed; the measured results above are unaffected",
                   [error.read_text().strip()[:2000]])]


def read_json(path: Path, heading: str, name: str) -> tuple[Any, list[Block]]:
    """(the JSON at `path`, no blocks), (None, no blocks) when there is none, or (None, a notice
    under `heading`) when it is unreadable."""
    if not path.is_file():
        return None, []
    try:
        return json.loads(path.read_text()), []
    except json.JSONDecodeError:
        return None, [Heading(heading), Notice(f"{name} is unreadable", [str(path)])]
