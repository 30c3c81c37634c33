"""After the contract suite and the OpenAPI fuzzer have done their worst to the session's
deployments, `archbench check` on each running deployment finds every invariant holding."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.deployments import ROOT, RunningUp, die_with_pytest

pytestmark = pytest.mark.e2e


def test_archbench_check_finds_every_invariant_holding_on_the_live_deployment(
        deployment: RunningUp) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "harness", "check", str(deployment.workdir)], cwd=ROOT,
        capture_output=True, text=True, timeout=300, check=False, preexec_fn=die_with_pytest,
        env={**os.environ, "COLUMNS": "200"})

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{deployment.architecture} checked" in result.stdout
    assert "all five invariants hold" in result.stdout
    bookings = next(line for line in result.stdout.splitlines() if line.startswith("bookings "))
    assert not bookings.startswith("bookings 0 "), bookings  # the suite booked for real
