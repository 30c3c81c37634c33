"""Measurement-integrity warnings appear when their condition is planted, and only then."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.report import build
from tests.support.report_fixtures import Tweak, build_run_folder


def _report(root: Path, **options: Any) -> str:
    synthetic = build_run_folder(root, **options)
    build(synthetic.root)
    return (synthetic.root / "report.md").read_text()


def _only(architecture: str, repeat: int, change: dict[str, Any]) -> Tweak:
    def tweak(arch: str, rep: int, step: int, summary: dict[str, Any]) -> None:
        if (arch, rep) == (architecture, repeat):
            summary.update(change)

    return tweak


@pytest.fixture(scope="module")
def clean_report(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _report(tmp_path_factory.mktemp("clean"))


def test_a_clean_run_has_no_warning(clean_report: str) -> None:
    assert "WARNINGS" not in clean_report
    assert "Measurement integrity: no late starts" in clean_report


def test_late_starts_are_a_warning(tmp_path: Path, clean_report: str) -> None:
    report = _report(tmp_path, tweak=_only("microservices", 1, {"late_starts": 17}))
    assert "WARNINGS" in report
    assert "microservices r1 s0: 17 late starts" in report
    assert "late starts:" not in clean_report


def test_an_open_loop_run_below_95_percent_of_its_offered_rate_is_a_warning(tmp_path: Path) -> None:
    report = _report(tmp_path, tweak=_only("monolith", 2, {"achieved_rate": 45.0}))
    assert "monolith r2 s0: achieved 45.0 req/s of 50.0 offered (90% < 95%)" in report


def test_an_open_loop_run_at_96_percent_is_not_a_warning(tmp_path: Path) -> None:
    report = _report(tmp_path, tweak=_only("monolith", 2, {"achieved_rate": 48.0}))
    assert "WARNINGS" not in report


def test_a_busy_generator_makes_its_step_generator_bound(tmp_path: Path, clean_report: str) -> None:
    report = _report(tmp_path, tweak=_only("monolith", 0, {"generator_cpu_share": 0.95}))
    assert "monolith s0 is generator-bound (r0: generator CPU 95% of one CPU (≥ 80%))" in report
    assert "generator-bound (" not in clean_report


def test_repeats_disagreeing_by_more_than_10_percent_at_p50_is_a_warning(
    tmp_path: Path, clean_report: str
) -> None:
    report = _report(tmp_path, jitter=(1.0, 1.2, 1.0))
    assert "monolith s0 book_e2e: repeats disagree by 20% at p50" in report
    assert "repeats disagree" not in clean_report  # the default jitter spans 6%


def test_an_error_rate_above_1_percent_is_a_warning(tmp_path: Path, clean_report: str) -> None:
    # 600 book requests at 50 req/s for 60 s: 12 errors = 2%, 3 errors = 0.5%
    report = _report(tmp_path, tweak=_only("microservices", 0, {"errors": {"book": {"http_500": 12},
                                                                         "cancel": {"timeout": 1}}}))
    assert "microservices s0 book: error rate up to 2.0% (> 1%)" in report
    assert "cancel: error rate" not in report  # 1 of 150 = 0.7%
    assert "error rate up to" not in clean_report
