"""`archbench run` end to end on both architectures: every artifact of the run folder, plausible
numbers, and a Ctrl-C that stops everything and leaves the folder marked incomplete."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.deployments import ROOT, die_with_pytest, stop_alone, while_running
from tests.support.polling import wait_until

pytestmark = pytest.mark.e2e
SMALL = Path(__file__).with_name("run_small.yaml")


def _run(scenario: Path, out: Path) -> subprocess.CompletedProcess[str]:
    # a cache of its own: what it checks is made by this run, not taken from an earlier one
    return subprocess.run([sys.executable, "-m", "harness", "run", str(scenario), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
                          env={**os.environ, "ARCHBENCH_CACHE_DIR": str(out.parent / "cache")},
                          preexec_fn=die_with_pytest)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_an_open_loop_run_produces_every_artifact_for_both_architectures(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = _run(SMALL, out)

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("report.html")
    assert json.loads((out / "run.json").read_text())["status"] == "complete"
    for name in ("scenario.yaml", "environment.json", "summary.csv", "aggregate.csv", "report.md",
                 "report.html"):
        assert (out / name).stat().st_size > 0, name
    assert len(list((out / "plots").glob("*.png"))) >= 4
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and 'src="plots/' not in html

    summary = _rows(out / "summary.csv")
    assert {r["architecture"] for r in summary} == {"monolith", "microservices"}
    for arch in ("monolith", "microservices"):
        rows = {r["operation"]: r for r in summary if r["architecture"] == arch}
        assert float(rows["book_e2e"]["p50_ms"]) > 0
        assert float(rows["search_availability"]["p50_ms"]) > 0
        assert float(rows["book_e2e"]["p50_ms"]) >= float(rows["book"]["p50_ms"])
        achieved = float(rows["search_availability"]["achieved_rate"])
        assert 15 * 0.85 <= achieved <= 15 * 1.15
        run = out / "runs" / arch / "r0" / "s0"
        overhead = json.loads((run / "overhead.json").read_text())
        assert overhead["processes"] > 3 and overhead["total_rss_mib"] > 10
        metrics = _rows(run / "metrics.csv")
        components = {m["component"] for m in metrics}
        assert {"postgres", "caddy", "generator"} <= components
    assert json.loads((out / "runs/microservices/r0/s0/readlag.json").read_text())["count"] > 0
    aggregate = _rows(out / "aggregate.csv")
    assert aggregate

    # the simulation calibrated from this run and predicted it
    assert not (out / "sim" / "error.txt").exists()
    for arch in ("monolith", "microservices"):
        info = json.loads((out / "runs" / arch / "r0" / "s0" / "info.json").read_text())
        assert info["idle_from"] < info["idle_to"] <= info["measured_from"]
    calibration = yaml.safe_load((out / "calibration.yaml").read_text())
    assert calibration["source"]["run"] == out.name  # outside the project: its name, no machine path
    assert not [n for n in calibration["source"]["notes"] if "not measured in this run" in n]
    for arch, components in (("monolith", {"monolith", "postgres", "caddy"}),
                             ("microservices", {"booking", "query", "nats", "postgres"})):
        found = calibration["architectures"][arch]["components"]
        assert components <= set(found)
        assert all(found[c]["demand_ms"] > 0 for c in components), found
    validation = _rows(out / "sim" / "validation.csv")
    assert {(r["architecture"], r["operation"]) for r in validation} >= {
        ("monolith", "book_e2e"), ("microservices", "book_e2e"), ("microservices", "search_availability")}
    for row in validation:
        assert float(row["predicted_p50_ms"]) > 0 and float(row["predicted_throughput"]) > 0
        assert row["role"] == "calibration"  # the run's only step is the calibration point
    engine = _rows(out / "sim" / "engine_validation.csv")
    assert len(engine) >= 6
    report = (out / "report.md").read_text()
    assert "## Simulation" in report and "Predicted vs measured" in report

    # the audit and the scorecard of this run
    audit = json.loads((out / "audit" / "audit.json").read_text())
    assert set(audit["architectures"]) == {"monolith", "microservices"} and not audit["live"]
    assert not (out / "audit" / "error.txt").exists()
    card = json.loads((out / "scorecard.json").read_text())
    assert len({(n["side"], n["claim"]) for c in card["claims"] for n in c["names"]}) == 12
    verdicts = {(c["claim"], c["evidence"]): c["verdict"] for c in card["claims"]}
    # counted on this run's deployments: the monolith runs fewer processes and databases, a fact
    # of the two designs rather than a verdict of the run
    assert verdicts[("Less operational overhead", "structural")] == "true by construction"
    assert sum(card["headline"]["measured"].values()) == 3
    assert "## Scorecard" in report and "Structural facts" in report and "## Coupling" in report

    # which code wrote what: the run itself, nothing regenerated, no path of this machine
    assert card["provenance"]["by"] == "archbench run" and not card["provenance"]["regenerated"]
    written = json.loads((out / "provenance.json").read_text())["files"]
    assert not written["report.md"]["regenerated"] and not written["scorecard.json"]["regenerated"]
    for name in ("run.json", "scorecard.json", "calibration.yaml", "runs/monolith/r0/s0/check.json"):
        assert str(tmp_path) not in (out / name).read_text(), name

    # the run ends on its headline and says where the time went (run.json keeps it)
    assert "microservices / monolith" in result.stderr and "CPU-s / 1k requests" in result.stderr
    judged = len(json.loads((out / "scorecard.json").read_text())["claims"])  # mirrors merged
    assert f"scorecard: {judged} claims" in result.stderr and "where the time went" in result.stderr
    timings = json.loads((out / "run.json").read_text())["timings"]
    assert {(t["step"], t["run"]) for t in timings if "run" in t} >= {
        (step, f"runs/{arch}/r0/s0") for arch in ("monolith", "microservices")
        for step in ("deploy", "idle CPU", "load", "collect", "check", "teardown")}
    assert {"simulation", "audit", "scorecard", "report"} <= {t["step"] for t in timings}
    assert "It depends on sim/ alone: checked in this run." in report


def test_a_closed_loop_run_works_the_same_way(tmp_path: Path) -> None:
    scenario = yaml.safe_load(SMALL.read_text())
    scenario.update(name="ci-closed", load={"model": "closed", "users": 3,
                                            "think_time_s": [0.1, 0.3]}, audit={"enabled": False})
    path = tmp_path / "closed.yaml"
    path.write_text(yaml.safe_dump(scenario))
    out = tmp_path / "run"

    result = _run(path, out)

    assert result.returncode == 0, result.stderr[-2000:]
    summary = _rows(out / "summary.csv")
    assert {r["architecture"] for r in summary} == {"monolith", "microservices"}
    assert all(float(r["p50_ms"]) > 0 for r in summary if int(r["count"]) > 0)
    validation = _rows(out / "sim" / "validation.csv")  # closed-loop runs are simulated too
    assert {r["architecture"] for r in validation} == {"monolith", "microservices"}
    assert all(float(r["predicted_throughput"]) > 0 for r in validation)
    assert not (out / "audit").exists() and not (out / "scorecard.json").exists()


def test_ctrl_c_during_a_run_stops_everything_and_marks_the_folder_incomplete(
        tmp_path: Path) -> None:
    out = tmp_path / "run"
    with open(tmp_path / "stderr", "w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "harness", "run", str(SMALL), "--out",
                                    str(out)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr,
                                   preexec_fn=die_with_pytest)
    generator_log = out / "runs" / "monolith" / "r0" / "s0" / "deployment" / "logs" / "generator.log"
    wait_until(while_running(process, generator_log.exists), 120, "the load started", 0.1)
    code, survivors = stop_alone(process)

    assert code == 130
    assert survivors == []
    state = json.loads((out / "run.json").read_text())
    assert state["status"] == "incomplete" and state["runs"] == []
    info = json.loads((out / "runs/monolith/r0/s0/info.json").read_text())
    assert info["status"] == "incomplete"


def test_report_rebuilds_a_copied_run_and_compare_reads_two_runs(tmp_path: Path) -> None:
    import shutil

    sample = ROOT / "results" / "sample"
    copy = tmp_path / "sample"
    shutil.copytree(sample, copy)
    for name in ("report.md", "report.html", "summary.csv", "aggregate.csv"):
        (copy / name).unlink()

    rebuilt = subprocess.run([sys.executable, "-m", "harness", "report", str(copy)], cwd=ROOT,
                             capture_output=True, text=True, timeout=300, check=False)
    compared = subprocess.run([sys.executable, "-m", "harness", "compare", str(sample), str(copy)],
                              cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    not_a_run = subprocess.run([sys.executable, "-m", "harness", "report", str(tmp_path)],
                               cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert (copy / "report.html").exists() and (copy / "summary.csv").exists()
    assert _rows(copy / "summary.csv") == _rows(sample / "summary.csv")
    assert compared.returncode == 0, compared.stderr
    assert "book_e2e" in compared.stdout and "not significant" in compared.stdout
    assert not_a_run.returncode == 1
    assert len(not_a_run.stderr.strip().splitlines()) == 1
