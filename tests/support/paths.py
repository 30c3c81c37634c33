"""Where the repository's own inputs are, for tests in any folder."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
SAMPLE = ROOT / "results" / "sample"  # the committed sample run
NOTEBOOKS = ROOT / "notebooks"
