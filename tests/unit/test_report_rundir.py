"""Incomplete and damaged run folders: a notice for the first, a one-line HarnessError for the second."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from harness.config.errors import HarnessError
from harness.report import build
from harness.results.rundir import load_run_folder
from tests.support.report_fixtures import OPERATIONS, build_run_folder


def test_an_incomplete_run_builds_with_a_notice_naming_the_missing_runs(tmp_path: Path) -> None:
    synthetic = build_run_folder(tmp_path, status="incomplete", missing=(("microservices", 2, 0),))
    html = build(synthetic.root)
    markdown = (synthetic.root / "report.md").read_text()
    assert markdown.splitlines()[2].startswith("> **INCOMPLETE RUN")
    assert "microservices r2 s0: not measured (load/summary.json missing)" in markdown
    assert "INCOMPLETE RUN" in html.read_text()
    summary = pd.read_csv(synthetic.root / "summary.csv")
    assert len(summary) == 5 * len(OPERATIONS)
    aggregate = pd.read_csv(synthetic.root / "aggregate.csv")
    assert set(aggregate.query("architecture == 'microservices'")["repeats"]) == {2}


def test_a_run_folder_that_was_never_started_builds_an_empty_report(tmp_path: Path) -> None:
    synthetic = build_run_folder(tmp_path, repeats=1, status="incomplete")
    shutil.rmtree(synthetic.root / "runs")
    build(synthetic.root)
    markdown = (synthetic.root / "report.md").read_text()
    assert "monolith r0 s0: not measured (not started)" in markdown
    assert "No run finished" in markdown
    assert pd.read_csv(synthetic.root / "summary.csv").empty


def test_an_interrupted_run_is_named_in_the_notice(tmp_path: Path) -> None:
    def interrupt(architecture: str, repeat: int, step: int, summary: dict) -> None:
        if (architecture, repeat) == ("monolith", 1):
            summary["interrupted"] = True

    synthetic = build_run_folder(tmp_path, tweak=interrupt)
    build(synthetic.root)
    markdown = (synthetic.root / "report.md").read_text()
    assert "monolith r1 s0: interrupted before the end of its measured period" in markdown


def test_a_complete_run_has_no_notice(tmp_path: Path) -> None:
    synthetic = build_run_folder(tmp_path, repeats=1)
    assert load_run_folder(synthetic.root).complete
    build(synthetic.root)
    assert "INCOMPLETE" not in (synthetic.root / "report.md").read_text()


def test_a_folder_without_run_json_is_not_a_run_folder(tmp_path: Path) -> None:
    synthetic = build_run_folder(tmp_path, repeats=1)
    (synthetic.root / "run.json").unlink()
    with pytest.raises(HarnessError, match=r"run\.json is missing") as error:
        build(synthetic.root)
    assert "\n" not in str(error.value)
    assert not (synthetic.root / "report.html").exists()


def test_a_truncated_run_json_is_a_harness_error(tmp_path: Path) -> None:
    synthetic = build_run_folder(tmp_path, repeats=1)
    text = (synthetic.root / "run.json").read_text()
    (synthetic.root / "run.json").write_text(text[: len(text) // 2])
    with pytest.raises(HarnessError, match="not valid JSON"):
        build(synthetic.root)


def test_a_missing_folder_is_a_harness_error(tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match="not a directory"):
        build(tmp_path / "nowhere")


def test_a_truncated_summary_json_is_listed_as_missing(tmp_path: Path) -> None:
    synthetic = build_run_folder(tmp_path, repeats=2)
    summary = synthetic.run_dir("monolith", 1, 0) / "load" / "summary.json"
    summary.write_text(summary.read_text()[:40])
    folder = load_run_folder(synthetic.root)
    missing = [(m.label, m.reason) for m in folder.missing]
    assert missing == [("monolith r1 s0", "load/summary.json unreadable")]
    assert not folder.complete


def test_runs_planned_but_not_yet_run_are_listed_as_missing(tmp_path: Path) -> None:
    synthetic = build_run_folder(tmp_path, repeats=1, status="incomplete")
    meta = json.loads((synthetic.root / "run.json").read_text())
    meta["planned"] = [*meta["runs"], {"architecture": "monolith", "repeat": 1, "step": 0,
                                       "path": "runs/monolith/r1/s0"}]
    (synthetic.root / "run.json").write_text(json.dumps(meta))
    folder = load_run_folder(synthetic.root)
    assert [(m.label, m.reason) for m in folder.missing] == [("monolith r1 s0", "not started")]
    assert len(folder.runs) == 2
