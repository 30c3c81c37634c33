"""`archbench sim` as a user runs it: a bad `--set` fails with one error line and writes nothing, and the
command writes a complete output folder, never overwrites one, and sweeps a what-if."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from harness.config.errors import HarnessError
from harness.config.loading import load_scenario
from tests.support.paths import BASELINE, ROOT

pytestmark = pytest.mark.integration

SMALL = ["--set", "sim.duration_s=3", "--set", "sim.warmup_s=1", "--set", "sim.replications=2",
         "--set", "load.steps=[20,40]", "--no-saturation", "--processes", "1"]
OUTPUTS = ("summary.csv", "replications.csv", "calibration.yaml", "latency_vs_load.png", "summary.md")


def archbench_sim(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`archbench sim BASELINE ARGS` in a fresh process (the entry point that prints `error:`)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "harness", "sim", str(BASELINE), *map(str, args)],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


Run = tuple[Path, subprocess.CompletedProcess[str]]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# brackets in a message (a pydantic location, a list echoed from --set) are text, not markup
@pytest.mark.parametrize("override", ["sim.coress=2", "sim.hosts", "sim.replicas={gateway: 2}",
                                      "name=[/x]"])
def test_the_command_rejects_a_bad_override_with_one_error_line_and_writes_nothing(
        tmp_path: Path, override: str) -> None:
    with pytest.raises(HarnessError) as raised:
        load_scenario(BASELINE, [override])
    out = tmp_path / "x"
    done = archbench_sim("--set", override, "--out", out, cwd=tmp_path)

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [f"error: {raised.value}"]
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    base = tmp_path_factory.mktemp("sim")
    out = base / "x"
    return out, archbench_sim(*SMALL, "--out", out, cwd=base)


def test_a_small_run_writes_the_output_folder(small_run: Run) -> None:
    out, done = small_run
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(out)
    for name in OUTPUTS:
        assert (out / name).is_file(), name
        assert (out / name).stat().st_size > 0, name
    summary = pd.read_csv(out / "summary.csv")
    assert set(zip(summary["architecture"], summary["level"], strict=True)) == {
        (arch, level) for arch in ("monolith", "microservices") for level in (20.0, 40.0)}
    assert (summary["replications"] == 2).all()
    assert len(pd.read_csv(out / "replications.csv")) == 2 * 2 * 2


def test_the_command_never_overwrites_an_output_folder(small_run: Run) -> None:
    out, first = small_run
    assert first.returncode == 0, first.stderr
    before = snapshot(out)

    again = archbench_sim(*SMALL, "--out", out, cwd=out.parent)

    assert again.returncode != 0
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1, again.stderr
    assert lines[0].startswith("error:")
    assert "already exists" in lines[0]
    assert snapshot(out) == before


def test_a_whatif_run_writes_both_values_and_the_crossovers(tmp_path: Path) -> None:
    out = tmp_path / "x"
    done = archbench_sim(*SMALL, "--set", "load.steps=[20]",
                         "--set", "sim.whatif={parameter: sim.network_rtt_ms, values: [0.1, 5]}",
                         "--out", out, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    crossovers = json.loads((out / "crossovers.json").read_text())
    assert isinstance(crossovers, list)
    assert all(isinstance(sentence, str) for sentence in crossovers)
    summary = pd.read_csv(out / "summary.csv")
    assert set(zip(summary["architecture"], summary["value"], strict=True)) == {
        (arch, value) for arch in ("monolith", "microservices") for value in (0.1, 5.0)}
    slower = summary.set_index(["architecture", "value"])["book_e2e_p50_ms"]
    assert slower["microservices", 5.0] > slower["microservices", 0.1]
