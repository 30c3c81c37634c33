"""Recording: warm-up discarded, latency from the intended start, per-window rows, output files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hdrh.histogram import HdrHistogram

from loadtests.outputs import RunInfo, summary, write_outputs
from loadtests.recorder import Recorder

ORIGIN = 1000.0  # monotonic clock reading at the start of the load


def _recorder() -> Recorder:
    return Recorder(ORIGIN, warmup_s=2.0, duration_s=6.0, window_s=2.0)


def _info(**changes: object) -> RunInfo:
    fields: dict[str, object] = {"model": "open", "offered_rate": 10.0, "warmup_s": 2.0,
                                 "measured_until_s": 6.0, "started_at": "s", "finished_at": "f",
                                 "generator_cpu_s": 0.4, "interrupted": False}
    return RunInfo(**{**fields, **changes})  # type: ignore[arg-type]


def test_samples_that_start_in_the_warm_up_are_discarded() -> None:
    recorder = _recorder()
    recorder.record("list_hotels", ORIGIN + 1.9, ORIGIN + 2.5)
    recorder.error("list_hotels", "http_500", ORIGIN + 0.5, ORIGIN + 0.6)
    recorder.record("list_hotels", ORIGIN + 2.1, ORIGIN + 2.2)
    recorder.record("list_hotels", ORIGIN + 6.0, ORIGIN + 6.1)  # after the end of the load
    assert recorder.requests() == {"list_hotels": 1}
    assert dict(recorder.errors) == {}


def test_latency_counts_from_the_intended_start_not_the_actual_one() -> None:
    recorder = _recorder()
    intended, actual_start, end = ORIGIN + 3.0, ORIGIN + 3.5, ORIGIN + 3.51
    recorder.started(intended, actual_start)
    recorder.record("search_availability", intended, end)
    p50 = summary(recorder, _info())["percentiles_ms"]["search_availability"]["p50"]
    assert p50 == pytest.approx(510, rel=0.001)
    assert recorder.late_starts == 1
    assert recorder.lag_ms()["max"] == pytest.approx(500, rel=0.001)


def test_a_start_within_10_ms_of_its_due_time_is_not_late() -> None:
    recorder = _recorder()
    recorder.started(ORIGIN + 3.0, ORIGIN + 3.009)
    recorder.started(ORIGIN + 1.0, ORIGIN + 1.5)  # warm-up: not counted at all
    assert recorder.late_starts == 0
    assert recorder.lag_ms()["max"] == pytest.approx(9, rel=0.001)


def test_latencies_keep_three_significant_digits_from_microseconds_to_two_minutes() -> None:
    recorder = _recorder()
    for seconds in (0.000_250, 0.0123, 95.0, 500.0):
        recorder.record("book_e2e", ORIGIN + 3, ORIGIN + 3 + seconds)
    histogram = recorder.histograms["book_e2e"]
    assert histogram.get_min_value() == 250
    assert histogram.get_value_at_percentile(50) == pytest.approx(12_300, rel=0.001)
    assert histogram.get_max_value() == pytest.approx(120_000_000, rel=0.001)  # clamped, still counted
    assert histogram.get_total_count() == 4


def test_throughput_counts_completions_inside_the_measured_period() -> None:
    recorder = _recorder()
    for k in range(8):  # due every 0.5 s from t=2, each finishing 1 s late: the last two after t=6
        recorder.record("search_availability", ORIGIN + 2 + k * 0.5, ORIGIN + 3 + k * 0.5 + 0.1)
    recorder.record("book_e2e", ORIGIN + 2.5, ORIGIN + 2.6)
    result = summary(recorder, _info())
    assert result["requests"]["search_availability"] == 8
    assert result["achieved_rate"] == pytest.approx(6 / 4)


def test_outputs_hold_the_summary_the_histograms_and_one_row_per_window_and_operation(tmp_path: Path) -> None:
    recorder = _recorder()
    recorder.record("book", ORIGIN + 2.0, ORIGIN + 2.010)
    recorder.record("book", ORIGIN + 4.5, ORIGIN + 4.530)
    recorder.record("book_e2e", ORIGIN + 2.0, ORIGIN + 2.050)
    recorder.error("cancel", "http_409", ORIGIN + 5.0, ORIGIN + 5.01)
    write_outputs(tmp_path / "run", recorder, _info())
    out = tmp_path / "run"

    result = json.loads((out / "summary.json").read_text())
    assert result["requests"] == {"book": 2, "book_e2e": 1, "cancel": 1}
    assert result["errors"] == {"cancel": {"http_409": 1}}
    assert result["measured_s"] == 4.0 and result["warmup_s"] == 2.0 and result["offered_rate"] == 10.0
    assert result["achieved_rate"] == pytest.approx(3 / 4)  # book_e2e is not an extra request
    assert result["generator_cpu_share"] == pytest.approx(0.1)
    assert set(result["percentiles_ms"]["book"]) == {"p50", "p90", "p99", "p999", "max", "mean"}
    assert "interrupted" not in result

    decoded = HdrHistogram.decode((out / "histograms" / "book.hdr").read_text().strip().encode())
    assert decoded.get_total_count() == 2
    assert not (out / "histograms" / "cancel.hdr").exists()

    with (out / "windows.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["window_start_s"], r["operation"], r["count"], r["errors"]) for r in rows] == [
        ("2.0", "book", "1", "0"), ("2.0", "book_e2e", "1", "0"), ("2.0", "cancel", "0", "0"),
        ("4.0", "book", "1", "0"), ("4.0", "book_e2e", "0", "0"), ("4.0", "cancel", "0", "1"),
    ]
    assert float(rows[3]["p99_ms"]) == pytest.approx(30, rel=0.001)
    assert rows[2]["p50_ms"] == ""


def test_an_interrupted_run_reports_only_what_it_measured() -> None:
    recorder = _recorder()
    recorder.record("book", ORIGIN + 2.5, ORIGIN + 2.6)
    result = summary(recorder, _info(measured_until_s=3.0, interrupted=True))
    assert result["interrupted"] is True and result["measured_s"] == 1.0
    assert len(recorder.window_rows(3.0)) == 1


def test_old_windows_are_kept_encoded_and_still_reported() -> None:
    recorder = Recorder(ORIGIN, warmup_s=0.0, duration_s=100.0, window_s=1.0)
    for window in range(20):
        recorder.record("list_hotels", ORIGIN + window, ORIGIN + window + 0.001 * (window + 1))
    recorder.record("list_hotels", ORIGIN + 0.5, ORIGIN + 0.6)  # late arrival for an encoded window
    rows = recorder.window_rows(20.0)
    assert [r.count for r in rows] == [2] + [1] * 19
    assert rows[19].p50_ms == pytest.approx(20, rel=0.001)
