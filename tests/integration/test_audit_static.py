"""`archbench audit --no-live` as a user runs it: the static audit's files, and no second run over them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT

pytestmark = pytest.mark.integration


def test_archbench_audit_without_deploying_writes_json_markdown_and_pictures(tmp_path: Path) -> None:
    out = tmp_path / "audit"
    done = subprocess.run([sys.executable, "-m", "harness", "audit", "--no-live", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    again = subprocess.run([sys.executable, "-m", "harness", "audit", "--no-live", "--out", str(out)],
                           cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)

    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == str(out / "audit.json")
    audit = json.loads((out / "audit.json").read_text())
    assert set(audit["architectures"]) == {"monolith", "microservices"} and not audit["live"]
    assert "## Coupling" in (out / "audit.md").read_text()
    assert [p.name for p in out.glob("*.png")] == ["dependencies.png"]
    assert again.returncode == 1 and "already exists" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
