"""build(): every artifact of a synthetic run folder, and numbers that match what was recorded."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from harness.report import build
from harness.results.rundir import load_run_folder
from harness.results.spread import DASH
from harness.results.stats import TOO_FEW
from harness.results.summary import compute_tables, histogram_mean
from tests.support.report_fixtures import OPERATIONS, SyntheticRun, build_run_folder

ARCHITECTURES = ("monolith", "microservices")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[SyntheticRun, Path]:
    synthetic = build_run_folder(tmp_path_factory.mktemp("run"), rates=(50.0, 100.0), repeats=3)
    return synthetic, build(synthetic.root)


def test_build_writes_every_artifact_and_returns_the_html_path(built: tuple[SyntheticRun, Path]) -> None:
    synthetic, html = built
    assert html == synthetic.root / "report.html"
    for name in ("summary.csv", "aggregate.csv", "report.md", "report.html"):
        assert (synthetic.root / name).stat().st_size > 0, name
    plots = {p.name for p in (synthetic.root / "plots").glob("*.png")}
    assert {"percentiles_s0.png", "percentiles_s1.png", "latency_s0.png", "latency_s1.png",
            "throughput_s0.png", "cpu_per_1k.png", "rss.png"} <= plots
    for png in (synthetic.root / "plots").glob("*.png"):
        assert png.read_bytes().startswith(b"\x89PNG"), png


def test_summary_has_one_row_per_architecture_repeat_step_and_operation(
    built: tuple[SyntheticRun, Path],
) -> None:
    synthetic, _ = built
    summary = pd.read_csv(synthetic.root / "summary.csv")
    assert len(summary) == len(ARCHITECTURES) * 3 * 2 * len(OPERATIONS)
    assert not summary.duplicated(["architecture", "repeat", "step", "operation"]).any()
    assert list(summary.columns) == [
        "architecture", "repeat", "step", "offered_rate", "achieved_rate", "operation", "count", "errors",
        "error_rate", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "mean_ms", "p50_ms_lo", "p50_ms_hi",
        "p90_ms_lo", "p90_ms_hi", "p99_ms_lo", "p99_ms_hi", "p999_ms_lo", "p999_ms_hi",
        "floor_p50_ms", "floor_p99_ms", "generator_bound", "generator_bound_reason",
    ]


def test_summary_percentiles_match_the_recorded_values_within_hdr_precision(
    built: tuple[SyntheticRun, Path],
) -> None:
    synthetic, _ = built
    summary = pd.read_csv(synthetic.root / "summary.csv")
    for row in summary.itertuples():
        for column, pct in (("p50_ms", 50), ("p90_ms", 90), ("p99_ms", 99), ("p999_ms", 99.9)):
            exact = synthetic.percentile_ms(row.architecture, row.repeat, row.step, row.operation, pct)
            assert getattr(row, column) == pytest.approx(exact, rel=1e-3, abs=0.001), (row, column)
        samples = synthetic.samples_us[(row.architecture, row.repeat, row.step, row.operation)]
        assert row.mean_ms == pytest.approx(sum(samples) / len(samples) / 1000, rel=1e-3)
        assert row.count == len(samples)


def test_percentiles_come_from_the_histograms_not_the_generators_summary(tmp_path: Path) -> None:
    def lie(architecture: str, repeat: int, step: int, summary: dict) -> None:
        summary["percentiles_ms"] = {op: {"p50": 999.0, "p90": 999.0, "p99": 999.0, "p999": 999.0,
                                          "max": 999.0, "mean": 999.0} for op in OPERATIONS}

    synthetic = build_run_folder(tmp_path, repeats=1, tweak=lie)
    build(synthetic.root)
    summary = pd.read_csv(synthetic.root / "summary.csv")
    assert summary["p99_ms"].max() < 500
    expected = synthetic.percentile_ms("monolith", 0, 0, "book_e2e", 99)
    got = summary.query("architecture == 'monolith' and operation == 'book_e2e'")["p99_ms"].item()
    assert got == pytest.approx(expected, rel=1e-3)


def test_an_unreadable_histogram_falls_back_on_the_summary_and_says_so(tmp_path: Path) -> None:
    synthetic = build_run_folder(tmp_path, repeats=1)
    hdr = synthetic.run_dir("monolith", 0, 0) / "load" / "histograms" / "cancel.hdr"
    hdr.write_bytes(hdr.read_bytes()[:11])
    build(synthetic.root)
    summary = pd.read_csv(synthetic.root / "summary.csv")
    reported = json.loads((synthetic.run_dir("monolith", 0, 0) / "load" / "summary.json").read_text())
    row = summary.query("architecture == 'monolith' and operation == 'cancel'")
    assert row["p99_ms"].item() == pytest.approx(reported["percentiles_ms"]["cancel"]["p99"])
    assert "histogram cancel.hdr unreadable" in (synthetic.root / "report.md").read_text()


def test_aggregate_gives_the_median_and_range_across_repeats(built: tuple[SyntheticRun, Path]) -> None:
    synthetic, _ = built
    aggregate = pd.read_csv(synthetic.root / "aggregate.csv")
    assert len(aggregate) == len(ARCHITECTURES) * 2 * len(OPERATIONS)
    row = aggregate.query("architecture == 'microservices' and step == 1 and operation == 'book_e2e'").iloc[0]
    p99s = sorted(synthetic.percentile_ms("microservices", r, 1, "book_e2e", 99) for r in range(3))
    assert row["p99_ms"] == pytest.approx(p99s[1], rel=1e-3)
    assert row["p99_ms_min"] == pytest.approx(p99s[0], rel=1e-3)
    assert row["p99_ms_max"] == pytest.approx(p99s[2], rel=1e-3)
    assert row["repeats"] == 3
    assert row["offered_rate"] == 100.0
    assert row["cpu_s_per_1k"] == pytest.approx(synthetic.cpu_per_1k[("microservices", 0, 1)])
    assert row["readlag_p99_ms"] == 12.5
    assert row["total_rss_mib"] == 360.0


def test_cpu_per_1000_requests_is_exact_on_a_hand_made_metrics_file(tmp_path: Path) -> None:
    synthetic = build_run_folder(tmp_path, repeats=1, architectures=("monolith",))
    run_dir = synthetic.run_dir("monolith", 0, 0)
    info = json.loads((run_dir / "info.json").read_text())
    (run_dir / "info.json").write_text(json.dumps(info | {"measured_from": 1000.0, "measured_to": 1010.0}))
    (run_dir / "metrics.csv").write_text(
        "t,component,cpu_s,rss_bytes\n"
        "998,postgres,5.0,100\n1000,postgres,6.0,100\n1010,postgres,8.0,100\n1012,postgres,20.0,100\n"
        "1000,monolith,1.0,100\n1005,monolith,2.0,100\n1010,monolith,4.0,100\n"
        # sampled off the boundaries: 5.0 at t=1000 and 15.0 at t=1010 by interpolation
        "995,caddy,0.0,100\n1005,caddy,10.0,100\n1015,caddy,20.0,100\n"
        "1000,generator,0.0,100\n1010,generator,100.0,100\n"
    )
    summary = json.loads((run_dir / "load" / "summary.json").read_text())
    requests = sum(n for op, n in summary["requests"].items() if op != "book_e2e")
    runs = compute_tables(load_run_folder(synthetic.root)).runs
    assert runs["cpu_s"].item() == pytest.approx(2.0 + 3.0 + 10.0)
    assert runs["cpu_s_per_1k"].item() == pytest.approx(15.0 / requests * 1000)


def test_the_fast_histogram_mean_equals_the_librarys(built: tuple[SyntheticRun, Path]) -> None:
    synthetic, _ = built
    run = load_run_folder(synthetic.root).runs[0]
    for histogram in run.histograms.values():
        assert histogram_mean(histogram) == pytest.approx(histogram.get_mean_value())


def test_report_header_states_scenario_warmup_machine_and_revision(built: tuple[SyntheticRun, Path]) -> None:
    synthetic, html = built
    for text in ((synthetic.root / "report.md").read_text(), html.read_text()):
        assert "quickstart" in text
        assert "warm-up of 10 s discarded" in text
        assert "Synthetic CPU @ 3.0GHz" in text
        assert "abc1234" in text
        assert "2027-01-05T10:00:00+00:00" in text
        assert "INCOMPLETE" not in text


def test_report_html_is_self_contained(built: tuple[SyntheticRun, Path]) -> None:
    synthetic, html = built
    text = html.read_text()
    sources = re.findall(r'(?:src|href)="([^"]*)"', text)
    assert sources, "the report has no image"
    assert all(s.startswith("data:image/png;base64,") for s in sources), sources
    assert len(sources) == len(list((synthetic.root / "plots").glob("*.png")))
    assert "<link" not in text and "<script" not in text


def test_report_md_links_every_plot_relative_to_the_run_folder(built: tuple[SyntheticRun, Path]) -> None:
    synthetic, _ = built
    markdown = (synthetic.root / "report.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert sorted(links) == sorted(f"plots/{p.name}" for p in (synthetic.root / "plots").glob("*.png"))


def test_report_tables_give_every_percentile_its_interval_or_n_too_small(
    built: tuple[SyntheticRun, Path],
) -> None:
    synthetic, _ = built
    markdown = (synthetic.root / "report.md").read_text()
    interval = re.compile(r"[\d.]+ \[[\d.]+" + DASH + r"[\d.]+\]")
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in markdown.splitlines()
            if line.startswith(("| monolith |", "| microservices |"))]
    latency = [row for row in rows if row[1] in OPERATIONS]
    assert len(latency) == len(ARCHITECTURES) * 2 * len(OPERATIONS)
    for row in latency:
        requests = int(row[2])
        for cell, needed in zip(row[3:7], (20, 100, 1_000, 10_000), strict=True):
            if requests >= needed:
                assert interval.fullmatch(cell), row
            else:
                assert cell == TOO_FEW, row
    assert any(row[5] == TOO_FEW for row in latency) and any(interval.fullmatch(row[5]) for row in latency)
