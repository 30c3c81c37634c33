"""The report and its tables keep the generator's cost apart: the CPU split in the environment
section, the latency floor beside every latency table and in summary.csv / aggregate.csv, and a
⚠ on every number from a generator-bound run."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from harness.report import build, compare
from tests.support.report_fixtures import Tweak, build_run_folder

FLOOR = {"path": "/health", "rate": 100.0, "count": 250, "errors": 0, "p50_ms": 0.8, "p99_ms": 2.5}
SPLIT = {"pinned": True, "generator": [1], "system": [0],
         "note": "default: the generator on the last CPU, the system on the others"}


def _with_floor(busy: tuple[str, int] | None = None) -> Tweak:
    def tweak(architecture: str, repeat: int, step: int, summary: dict[str, Any]) -> None:
        summary["floor"] = {**FLOOR, "p50_ms": FLOOR["p50_ms"] + 0.1 * repeat}
        if (architecture, repeat) == busy:
            summary["generator_cpu_share"] = 0.92

    return tweak


def _build(root: Path, tweak: Tweak, affinity: dict[str, list[int]] | None = None) -> Path:
    synthetic = build_run_folder(root, tweak=tweak)
    environment = json.loads((root / "environment.json").read_text())
    (root / "environment.json").write_text(json.dumps({**environment, "cpu_split": SPLIT}))
    for info_path in root.glob("runs/*/r*/s*/info.json"):
        info = json.loads(info_path.read_text())
        info["cpu_affinity"] = affinity or {"postgres": [0], "caddy": [0], "generator": [1]}
        info_path.write_text(json.dumps(info))
    build(synthetic.root)
    return synthetic.root


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def bound_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("bound"), _with_floor(busy=("microservices", 2)))


def test_summary_and_aggregate_carry_the_floor_and_the_generator_verdict(bound_run: Path) -> None:
    summary = _rows(bound_run / "summary.csv")
    mono = [r for r in summary if r["architecture"] == "monolith" and r["repeat"] == "1"]
    assert {r["floor_p50_ms"] for r in mono} == {"0.9"} and {r["floor_p99_ms"] for r in mono} == {"2.5"}
    assert {r["generator_bound"] for r in summary if r["architecture"] == "monolith"} == {"False"}
    busy = [r for r in summary if r["architecture"] == "microservices" and r["repeat"] == "2"]
    assert {r["generator_bound"] for r in busy} == {"True"}
    assert {r["generator_bound_reason"] for r in busy} == {"generator CPU 92% of one CPU (≥ 80%)"}

    aggregate = _rows(bound_run / "aggregate.csv")
    assert {r["floor_p50_ms"] for r in aggregate} == {"0.9"}  # median of 0.8, 0.9, 1.0
    assert {r["generator_bound"] for r in aggregate if r["architecture"] == "microservices"} == {"True"}
    assert {r["generator_bound_reason"] for r in aggregate if r["architecture"] == "microservices"} == {
        "r2: generator CPU 92% of one CPU (≥ 80%)"}
    assert {r["generator_bound"] for r in aggregate if r["architecture"] == "monolith"} == {"False"}


def test_the_floor_stands_beside_the_latency_table(bound_run: Path) -> None:
    report = (bound_run / "report.md").read_text()
    latency = report.split("## Latency", 1)[1].split("\n## ", 1)[0]

    assert "Generator floor: what the load generator reports for GET /health" in latency
    assert "| monolith | 0.90 | 2.50 |" in latency


def test_every_number_from_a_generator_bound_run_carries_a_warning(bound_run: Path) -> None:
    report = (bound_run / "report.md").read_text()

    assert "⚠ microservices s0 is generator-bound (r2: generator CPU 92% of one CPU (≥ 80%))" in report
    measured = report.split("## Latency", 1)[1].split("| deployables |")[0]  # not the deployment's size
    rows = [line for line in measured.splitlines() if line.startswith("| microservices |")]
    assert len(rows) == 7 + 1 + 1 + 1  # operations, floor, efficiency, CPU by process
    assert all(cell.strip().endswith("⚠") for row in rows for cell in row.strip("|").split("|")[2:])
    monolith_rows = [line for line in report.splitlines() if line.startswith("| monolith |")]
    assert monolith_rows and not any("⚠" in row for row in monolith_rows)
    sentences = [line for line in report.splitlines() if line.startswith("- ") and " p50 " in line
                 and "(microservices)" in line]
    assert sentences and all(s.startswith("- ⚠ ") for s in sentences)


def test_a_run_without_a_bound_generator_has_no_warning_sign(tmp_path: Path) -> None:
    report = (_build(tmp_path, _with_floor()) / "report.md").read_text()

    assert "⚠" not in report.split("## Method")[0]


def test_the_environment_section_shows_the_cpu_split_read_back_from_every_run(
        bound_run: Path) -> None:
    report = (bound_run / "report.md").read_text()

    assert ("**CPU split**: load generator on CPU 1, system under test on CPU 0 (default: the "
            "generator on the last CPU, the system on the others); read back from every process "
            "of 6 run(s)") in report


def test_a_process_found_on_other_cpus_than_planned_is_pointed_out(tmp_path: Path) -> None:
    root = _build(tmp_path, _with_floor(), affinity={"postgres": [0, 1], "generator": [1]})
    report = (root / "report.md").read_text()

    assert "⚠ not as planned: monolith r0 s0 postgres ran on CPU 0,1" in report


def test_a_run_folder_from_before_the_split_and_the_floor_says_so(tmp_path: Path) -> None:
    synthetic = build_run_folder(tmp_path)
    build(synthetic.root)
    report = (synthetic.root / "report.md").read_text()

    assert "**CPU split**: not recorded" in report
    assert "Generator floor: not measured in this run" in report


def test_compare_marks_values_from_a_generator_bound_run_and_gives_both_floors(
        bound_run: Path, tmp_path: Path) -> None:
    other = _build(tmp_path, _with_floor())

    text = compare(other, bound_run)

    assert "Generator floor, GET /health p50 / p99 ms: A: monolith 0.90 / 2.50" in text
    microservices = [line for line in text.splitlines() if line.startswith("| microservices |")]
    assert microservices and all(line.count("⚠") == 1 for line in microservices)  # B's value, each percentile
