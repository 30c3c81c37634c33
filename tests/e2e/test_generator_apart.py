"""`archbench run` keeps the load generator's cost apart: while the load runs, every process of the
deployment is on the system's CPUs and the generator alone on its own (read from /proc), and the
run folder records the split, the generator's latency floor and whether the run was
generator-bound, down to the report."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.support.deployments import ROOT, die_with_pytest, while_running
from tests.support.polling import wait_until
from tests.support.process_trees import allowed_cpus

pytestmark = pytest.mark.e2e
CPUS = sorted(os.sched_getaffinity(0))
SCENARIO = """\
name: ci-generator
architectures: [monolith]
dataset: {hotels: 4, room_types_per_hotel: 2, units_per_room_type: 20, horizon_days: 30}
payment_provider: {latency: "fixed:0.002"}
load: {model: open, arrival: fixed, rate: 10}
duration_s: 5
warmup_s: 1
window_s: 2
sim: {enabled: false}
audit: {enabled: false}
"""


def _generator(harness: psutil.Process) -> psutil.Process | None:
    for proc in harness.children(recursive=True):
        try:
            if "loadtests" in proc.cmdline():
                return proc
        except psutil.NoSuchProcess:
            continue
    return None


@pytest.mark.skipif(len(CPUS) < 2, reason="the default split needs two CPUs")
def test_a_run_pins_generator_and_system_apart_and_records_floor_and_verdict(
        tmp_path: Path) -> None:
    scenario, out = tmp_path / "scenario.yaml", tmp_path / "run"
    scenario.write_text(SCENARIO)
    system, generator_cpus = set(CPUS[:-1]), {CPUS[-1]}
    with open(tmp_path / "stderr", "w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "harness", "run", str(scenario), "--out", str(out)], cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=stderr, preexec_fn=die_with_pytest)
    try:
        harness = psutil.Process(process.pid)
        generator = wait_until(while_running(process, lambda: _generator(harness)), 180,
                               "the load generator started", 0.1)
        deployment = [p for p in harness.children(recursive=True) if p.pid != generator.pid]
        found = {}
        for proc in deployment:  # postgres backends, uvicorn workers, caddy, the provider...
            try:
                found[(proc.pid, proc.name())] = allowed_cpus(proc.pid)
            except (psutil.NoSuchProcess, FileNotFoundError):
                continue  # a short-lived one that ended meanwhile
        on_generator = allowed_cpus(generator.pid)
        assert process.wait(300) == 0, (tmp_path / "stderr").read_text()[-2000:]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert on_generator == generator_cpus
    assert len(found) >= 4 and all(cpus == system for cpus in found.values()), found

    environment = json.loads((out / "environment.json").read_text())
    assert environment["cpu_split"] == {"pinned": True, "generator": sorted(generator_cpus),
                                        "system": sorted(system), "note": environment["cpu_split"]["note"]}
    run = out / "runs" / "monolith" / "r0" / "s0"
    recorded = json.loads((run / "info.json").read_text())["cpu_affinity"]
    assert recorded.pop("generator") == sorted(generator_cpus)
    assert set(recorded) == {"postgres", "payment_provider", "monolith", "caddy"}
    assert all(cpus == sorted(system) for cpus in recorded.values())

    floor = json.loads((run / "load" / "summary.json").read_text())["floor"]
    assert floor["path"] == "/health" and floor["count"] > 0 and floor["errors"] == 0
    with open(out / "summary.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(float(r["floor_p50_ms"]) == floor["p50_ms"] for r in rows)
    assert all(float(r["floor_p50_ms"]) <= float(r["floor_p99_ms"]) for r in rows)
    assert {r["generator_bound"] for r in rows} <= {"True", "False"}
    assert all((r["generator_bound"] == "True") == bool(r["generator_bound_reason"]) for r in rows)
    with open(out / "aggregate.csv", newline="") as handle:
        columns = set(csv.DictReader(handle).fieldnames or ())
    assert {"floor_p50_ms", "floor_p99_ms", "generator_bound", "generator_bound_reason"} <= columns
    report = (out / "report.md").read_text()
    assert f"**CPU split**: load generator on CPU {CPUS[-1]}" in report
    assert "Generator floor: what the load generator reports for GET /health" in report
