"""The scorecard regenerated from a run folder by `archbench scorecard`, and its one-line error on a
folder with nothing to judge."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.audit.collect import run_audit
from harness.config.loading import load_scenario
from tests.support.paths import ROOT, SAMPLE

pytestmark = pytest.mark.integration

LOWER = "monolith < microservices"


def test_the_scorecard_is_regenerated_from_a_run_folder(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(SAMPLE, run)
    shutil.rmtree(run / "audit", ignore_errors=True)
    for name in ("scorecard.json", "scorecard.csv"):
        (run / name).unlink(missing_ok=True)
    run_audit(run / "audit", load_scenario(None), live=False)
    claims = tmp_path / "mine.yaml"
    claims.write_text(yaml.safe_dump({"claims": [
        {"claim": "Fewer processes", "side": "monolith", "kind": "pro",
         "metrics": ["processes"], "holds_if": LOWER},
        {"claim": "More shared tables", "side": "microservices", "kind": "con",
         "metrics": ["shared_tables"], "holds_if": "monolith < microservices"},
    ]}))
    done = subprocess.run([sys.executable, "-m", "harness", "scorecard", str(run),
                           "--claims", str(claims)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    card = json.loads((run / "scorecard.json").read_text())
    verdicts = {c["claim"]: c["verdict"] for c in card["claims"]}
    # the sample's deployments: the monolith runs fewer processes; its contexts share tables;
    # both are structural, facts of the two designs rather than verdicts of the run
    assert verdicts == {"Fewer processes": "true by construction",
                        "More shared tables": "false by construction"}
    assert card["headline"] == {"measured": {}, "structural": 2, "not measurable here": 0}
    assert card["provenance"]["regenerated"] and card["claims_file"] == "mine.yaml"
    assert (run / "scorecard.csv").read_text().count("\n") == 3
    html = (run / "report.html").read_text()
    assert "Scorecard" in html and "More shared tables" in html and "Coupling" in html


def test_a_folder_with_nothing_to_judge_is_a_clear_error(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "harness", "scorecard", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert "nothing to judge" in done.stderr and not list(tmp_path.iterdir())
