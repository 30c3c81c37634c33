"""The HTML report as a reader's browser shows it: headless Chromium loads the sample run's report,
rebuilt by the current code, without errors, broken images or requests leaving the machine. A second
test feeds the same check a broken page, to show that each of its findings can fail a test."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from harness.report import build
from tests.support.browser import PageCheck, chromium, open_page, serve
from tests.support.deployments import ROOT

pytestmark = pytest.mark.e2e
SAMPLE = ROOT / "results" / "sample"
BROKEN = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>broken</title></head>
<body><h1>broken</h1><img src="missing.png" alt="missing"><img src="http://192.0.2.1/far.png" alt="far">
<script>console.error("report script failed"); undefinedFunction();</script></body></html>
"""


@pytest.fixture
def executable() -> str:
    """Resolved first, so that a missing browser skips (or fails) before any work."""
    return chromium()


def _load(executable: str, folder: Path, page: str, screenshot: Path) -> PageCheck:
    with serve(folder) as base_url:
        return open_page(executable, f"{base_url}/{page}", screenshot)


def test_the_sample_report_renders_in_chromium_without_errors(executable: str, tmp_path: Path) -> None:
    folder = tmp_path / "sample"
    shutil.copytree(SAMPLE, folder)
    report = build(folder)
    screenshot = tmp_path / "report.png"
    html = report.read_text()
    for section in ("Latency", "Simulation", "Scorecard", "Coupling"):  # the sections under test
        assert f"<h2>{section}" in html, section

    started = time.monotonic()
    check = _load(executable, folder, report.name, screenshot)
    print(f"screenshot of the sample report: {screenshot} ({time.monotonic() - started:.1f} s in Chromium)")

    assert check.status == 200
    assert check.title.strip() and check.headings >= 1
    assert check.console_errors == [] and check.page_errors == []
    assert check.failed_requests == []
    assert check.images >= 8 and check.broken_images == []  # 7 plots, sim and dependencies
    assert check.foreign_requests == []
    assert check.survivors == []
    assert screenshot.stat().st_size > 0


def test_the_check_catches_a_broken_image_a_script_error_and_a_foreign_request(
        executable: str, tmp_path: Path) -> None:
    (tmp_path / "broken.html").write_text(BROKEN)

    check = _load(executable, tmp_path, "broken.html", tmp_path / "broken.png")

    assert check.status == 200
    assert check.images == 2 and len(check.broken_images) == 2
    assert check.broken_images[0].endswith("/missing.png")
    assert "report script failed" in check.console_errors
    assert any("undefinedFunction" in error for error in check.page_errors)
    assert any("/missing.png: HTTP 404" in failure for failure in check.failed_requests)
    assert check.foreign_requests == ["http://192.0.2.1/far.png"]
    assert check.survivors == []
