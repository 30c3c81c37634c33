"""For a sweep: the highest offered rate that meets the SLO with at least 95% of it achieved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.report import build
from tests.support.report_fixtures import BASE_P50_MS, build_run_folder

RATES = (50.0, 100.0, 200.0)


def latency(architecture: str, repeat: int, step: int, operation: str) -> float:
    # microservices' book_e2e p50 reaches 400 ms at 100 req/s: p99 about 1,280 ms
    if architecture == "microservices" and operation == "book_e2e" and step >= 1:
        return 400.0
    return BASE_P50_MS[operation]


def falls_behind_at_200(architecture: str, repeat: int, step: int, summary: dict[str, Any]) -> None:
    if architecture == "monolith" and step == 2:
        summary["achieved_rate"] = 180.0  # 90% of offered


def _report(root: Path, slo: dict[str, Any] | None, duration_s: float = 120.0) -> str:
    # 120 s: 1,200 bookings at 50 req/s, enough for a p99
    synthetic = build_run_folder(root, repeats=1, rates=RATES, latency=latency, tweak=falls_behind_at_200,
                                 slo=slo, duration_s=duration_s)
    build(synthetic.root)
    return (synthetic.root / "report.md").read_text()


def test_saturation_rate_is_the_highest_rate_meeting_the_default_slo(tmp_path: Path) -> None:
    report = _report(tmp_path, slo=None)
    assert "SLO: book_e2e p99 ≤ 500 ms" in report
    assert "- monolith: saturation rate 100 req/s" in report  # 200 is met in latency, not in rate
    assert "- microservices: saturation rate 50 req/s" in report
    assert "| microservices | 100 | 100.0 |" in report


def test_the_scenario_slo_is_used_when_given(tmp_path: Path) -> None:
    report = _report(tmp_path, slo={"operation": "book_e2e", "p99_ms": 50})
    assert "SLO: book_e2e p99 ≤ 50 ms" in report
    assert "- monolith: no offered rate met the SLO" in report  # its p99 is about 64 ms


def test_a_single_step_run_has_no_saturation_section(tmp_path: Path) -> None:
    synthetic = build_run_folder(tmp_path, repeats=1)
    build(synthetic.root)
    assert "Saturation" not in (synthetic.root / "report.md").read_text()


def test_a_step_with_too_few_requests_for_a_p99_is_not_judged(tmp_path: Path) -> None:
    report = _report(tmp_path, slo=None, duration_s=60.0)  # 600 bookings at 50 req/s
    assert "| microservices | 50 | 50.0 | n too small | n too small |" in report
    assert "- microservices: no offered rate met the SLO (not judged at 50 req/s: n too small for a p99)" \
        in report
    assert "- monolith: saturation rate 100 req/s (not judged at 50 req/s: n too small for a p99)" in report
