"""An architecture registered from a file (tests/e2e/architectures.toml, no code) deploys as its
entry says: the monolith's code, under its own name, held to one worker."""

from __future__ import annotations

import json

import psutil
import pytest

from tests.support.deployments import RunningUp

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("deployment", ["monolith-solo"], indirect=True)
def test_monolith_solo_runs_the_monolith_on_one_worker_whatever_the_scenario_says(
        deployment: RunningUp) -> None:
    state = json.loads((deployment.workdir / "deployment.json").read_text())
    assert state["architecture"] == "monolith-solo"
    (app,) = [p for p in state["processes"] if p["name"] == "monolith"]
    argv = psutil.Process(app["pid"]).cmdline()
    assert argv[argv.index("--workers") + 1] == "1"  # small.yaml asks for 2
    assert argv[argv.index("-m") + 1] == "apps.monolith"
