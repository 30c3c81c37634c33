"""`archbench run` reuses the live audit an earlier run measured for the same code and settings,
and says so: in audit.json, in the report and in the headline it prints; a scenario that only
takes a cached audit leaves it out, with a warning, while there is none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.deployments import ROOT, die_with_pytest

pytestmark = pytest.mark.e2e
SMALL = Path(__file__).with_name("run_small.yaml")


def _run(scenario: Path, out: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", "run", str(scenario), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
                          env={**os.environ, "ARCHBENCH_CACHE_DIR": str(cache)},
                          preexec_fn=die_with_pytest)


def _scenario(tmp_path: Path, live: bool | str) -> Path:
    scenario = yaml.safe_load(SMALL.read_text())
    scenario.update(name=f"ci-reuse-{live}", architectures=["monolith"], duration_s=4, warmup_s=1,
                    sim={"enabled": False}, audit={"live": live, "samples": 1})
    path = tmp_path / f"reuse-{live}.yaml"
    path.write_text(yaml.safe_dump(scenario))
    return path


def _origins(out: Path) -> dict[str, dict[str, str]]:
    return json.loads((out / "audit" / "audit.json").read_text())["live_origins"]


def test_a_second_run_reuses_the_live_audit_of_the_first_and_says_where_it_came_from(
        tmp_path: Path) -> None:
    cache = tmp_path / "cache"

    # nothing cached yet: a scenario that takes only a cached live audit runs without one
    waiting = _run(_scenario(tmp_path, "cached"), tmp_path / "none", cache)
    assert waiting.returncode == 0, waiting.stderr[-2000:]
    assert {o["source"] for o in _origins(tmp_path / "none").values()} == {"not measured"}
    assert "warning: live audit of the monolith and of the microservices: not measured" \
        in waiting.stderr
    assert "archbench run --fresh" in waiting.stderr
    assert not (tmp_path / "none" / "audit" / "deployments").exists()

    first = _run(_scenario(tmp_path, True), tmp_path / "first", cache)
    assert first.returncode == 0, first.stderr[-2000:]
    assert {o["source"] for o in _origins(tmp_path / "first").values()} == {"measured"}
    assert len(list((cache / "live-audit").glob("*.json"))) == 2  # one per architecture
    measured = json.loads((tmp_path / "first" / "audit" / "audit.json").read_text())

    second = _run(_scenario(tmp_path, "cached"), tmp_path / "second", cache)

    assert second.returncode == 0, second.stderr[-2000:]
    origins = _origins(tmp_path / "second")
    assert {o["source"] for o in origins.values()} == {"cached"}
    # named as a result file may name it: outside the project, by the folder's name alone
    assert {o["run"] for o in origins.values()} == {"first"}
    assert not (tmp_path / "second" / "audit" / "deployments").exists()  # nothing deployed again
    reused = json.loads((tmp_path / "second" / "audit" / "audit.json").read_text())
    for arch in ("monolith", "microservices"):
        assert reused["architectures"][arch]["live"] == measured["architectures"][arch]["live"]
        assert "runtime" in reused["architectures"][arch]
    report = (tmp_path / "second" / "report.md").read_text()
    assert "**monolith** and **microservices**: cached from run first at revision" in report
    assert "live audit of the monolith and of the microservices: cached from run" in second.stderr
    assert "warning: live audit" not in second.stderr
    timings = json.loads((tmp_path / "second" / "run.json").read_text())["timings"]
    assert {"deploy", "load", "check", "teardown", "audit", "report"} <= {t["step"] for t in timings}
