"""The headline `archbench run` prints at its end, from a synthetic run folder whose every number is
known: p50/p99 per operation and architecture with their ratio, CPU per 1,000 requests, the
scorecard's verdicts, the warnings and where the time went."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pytest

from harness.report.headline import (
    Column,
    Compared,
    efficiency_columns,
    efficiency_rows,
    headline,
    latency_columns,
    latency_rows,
    table,
)
from harness.results.rundir import load_run_folder
from harness.results.spread import DASH, TIMES
from harness.results.stats import TOO_FEW
from harness.results.summary import compute_tables
from tests.support.report_fixtures import SyntheticRun, build_run_folder

ARCHS = ["monolith", "microservices"]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> SyntheticRun:
    return build_run_folder(tmp_path_factory.mktemp("run"), repeats=3)


def _row(rendered: Any, operation: str, label: str) -> dict[str, str]:
    for row in rendered.rows:
        if row[0] == operation and row[1] == label:
            return dict(zip(rendered.columns, row, strict=True))
    raise AssertionError(f"no row {operation} {label}")


def _median_and_range(synthetic: SyntheticRun, arch: str, op: str, pct: float) -> tuple[float, float]:
    values = [synthetic.percentile_ms(arch, r, 0, op, pct) for r in range(3)]
    return statistics.median(values), (max(values) - min(values)) / 2


def _parsed(cell: str) -> tuple[float, float, float]:
    """'20.1 [19.8-20.4]' (the report's dash) -> median, low, high."""
    median, _, interval = cell.partition(" [")
    if not interval:  # an interval of one point is printed as the point
        return float(median), float(median), float(median)
    low, high = interval.rstrip("]").split(DASH)
    return float(median), float(low), float(high)


def test_each_operation_has_its_p50_and_p99_per_architecture_and_their_ratio(
        synthetic: SyntheticRun) -> None:
    found = headline(synthetic.root).latency

    assert found.columns == ["operation", "", "requests per run", "monolith ms",
                             "microservices ms", "microservices / monolith"]
    for op in ("book_e2e", "search_availability"):
        for label, pct in (("p50", 50), ("p99", 99)):
            row = _row(found, op, label)
            for arch in ARCHS:  # as printed (three significant figures), HDR's 3 digits apart
                cell = row[f"{arch} ms"]
                if pct == 99:  # 600 bookings and 1,500 searches per run: a p99 needs 1,000
                    assert cell == (TOO_FEW if op == "book_e2e" else cell)
                    if cell == TOO_FEW:
                        continue
                decimals = len(cell.split(" ")[0].partition(".")[2])
                median, _ = _median_and_range(synthetic, arch, op, pct)
                shown_median, low, high = _parsed(cell)
                rounding = 0.5 * 10 ** -decimals
                assert shown_median == pytest.approx(median, rel=2e-3, abs=rounding)
                # the bootstrap interval around it, as the report prints it
                assert low <= shown_median <= high
    # the microservices are planted 2.5 times slower, each repeat within 3% of the others
    ratio = _row(found, "book_e2e", "p50")["microservices / monolith"]
    assert ratio.startswith(f"2.50{TIMES} [") and "significant" not in ratio
    requests = _row(found, "book_e2e", "p99")["requests per run"]
    assert requests == "600 / 600"  # 50 req/s x 60 s x 20% of the mix, on each architecture


def test_cpu_per_thousand_requests_is_compared_the_same_way(synthetic: SyntheticRun) -> None:
    found = headline(synthetic.root).efficiency
    (row,) = found.rows
    cells = dict(zip(found.columns, row, strict=True))
    for arch in ARCHS:
        cpu = synthetic.cpu_per_1k[(arch, 0, 0)]
        digits = 1 if cpu >= 10 else 2
        assert cells[arch] == f"{cpu:.{digits}f} ± {0:.{digits}f}"
    assert cells["microservices / monolith"].startswith(
        f"{synthetic.cpu_per_1k[('microservices', 0, 0)] / synthetic.cpu_per_1k[('monolith', 0, 0)]:.2f}")


def test_an_interval_column_is_one_more_entry_in_the_list(synthetic: SyntheticRun) -> None:
    tables = compute_tables(load_run_folder(synthetic.root))
    columns = latency_columns(ARCHS)
    columns.append(Column[Compared]("p99 interval", lambda r: f"{r.label}: {len(r.values)}"))

    found = table(columns, latency_rows(tables.aggregate))

    assert found.columns[-1] == "p99 interval"
    assert all(row[-1] in ("p50: 2", "p99: 2") for row in found.rows)
    assert len(found.rows) == 2 * 7  # p50 and p99 of every operation
    assert table(efficiency_columns(ARCHS), efficiency_rows(tables.aggregate)).rows


def test_a_single_repeat_says_its_significance_is_unknown(tmp_path: Path) -> None:
    synthetic = build_run_folder(tmp_path / "one", repeats=1)
    row = _row(headline(synthetic.root).latency, "book_e2e", "p50")
    assert "±" not in row["monolith ms"]
    assert row["microservices / monolith"] == f"2.50{TIMES} (single repeat)"


def test_a_sweep_names_the_load_of_each_row(tmp_path: Path) -> None:
    synthetic = build_run_folder(tmp_path / "sweep", repeats=2, rates=(50.0, 100.0))
    found = headline(synthetic.root).latency
    assert found.columns[0] == "load"
    assert {row[0] for row in found.rows} == {"50.0", "100"}


def _write(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))


def test_verdicts_warnings_sources_and_timings(tmp_path: Path) -> None:
    synthetic = build_run_folder(tmp_path / "run", repeats=2)
    root = synthetic.root
    _write(root / "scorecard.json", {"claims": [
        {"verdict": "supported"}, {"verdict": "supported"}, {"verdict": "refuted"},
        {"verdict": "not significant"}]})
    check = {"architecture": "monolith", "quiescence": {}, "totals": {}, "invariants": []}
    for arch in ARCHS:
        for repeat in range(2):
            _write(root / f"runs/{arch}/r{repeat}/s0/check.json", check)
    _write(root / "runs/microservices/r1/s0/check.json", {"error": "HarnessError: postgres died"})
    _write(root / "audit/audit.json", {"architectures": {}, "live_origins": {
        "monolith": {"source": "cached", "run": "/runs/a", "revision": "abc123",
                     "measured_at": "2027-01-01T00:00:00+00:00"},
        "microservices": {"source": "not measured",
                          "reason": "audit.live: cached, and none cached; `archbench run --fresh`"}}})
    (root / "sim").mkdir()
    (root / "sim" / "error.txt").write_text("SimError: no CPU samples\n")
    meta = json.loads((root / "run.json").read_text())
    meta["timings"] = [{"step": "setup", "seconds": 0.5}] + [
        {"step": step, "run": f"runs/{arch}/r{r}/s0", "seconds": seconds}
        for arch in ARCHS for r in range(2)
        for step, seconds in (("deploy", 4.0), ("load", 30.0), ("teardown", 2.5))] + [
        {"step": "simulation", "seconds": 40.25}, {"step": "report", "seconds": 5.0}]
    meta["wall_s"] = 212.3
    (root / "run.json").write_text(json.dumps(meta))

    found = headline(root)

    assert found.verdicts == "scorecard: 4 claims: 2 supported, 1 refuted, 1 not significant"
    assert "invariant check: runs/microservices/r1/s0: the check could not run: " \
           "HarnessError: postgres died" in found.warnings
    assert "the simulation failed: SimError: no CPU samples" in found.warnings
    assert any(w.startswith("live audit of the microservices: not measured") and "--fresh" in w
               for w in found.warnings)
    assert found.sources == ["live audit of the monolith: cached from run /runs/a at revision "
                             "abc123 (2027-01-01T00:00:00+00:00), the code it depends on unchanged "
                             "since"]
    assert found.timings is not None
    assert found.timings.rows == [
        ["setup", "", "0.5"], ["deploy", "4", "16.0"], ["load", "4", "120.0"],
        ["teardown", "4", "10.0"], ["simulation", "", "40.2"], ["report", "", "5.0"],
        ["total", "", "212.3"]]


def test_a_folder_without_scorecard_or_timings_still_has_a_headline(synthetic: SyntheticRun) -> None:
    found = headline(synthetic.root)
    assert found.verdicts.startswith("scorecard: none")
    assert found.timings is None
    assert found.title.startswith("quickstart: 6 runs, 3 repeat(s)")
