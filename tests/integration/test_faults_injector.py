"""The fault injector on real (tiny) processes: faults fire on time from the load's start, a killed
process comes back, a paused one resumes, faults.json tells what happened, and leaving early lifts
every fault still holding."""

from __future__ import annotations

import json
import time
from pathlib import Path

import psutil
import pytest

from harness.config.scenario import Fault
from harness.deploy.deployment import Deployment
from harness.deploy.supervisor import ManagedProcess, Supervisor
from harness.load.faults import FAULTS_FILE, Injector
from tests.support.polling import wait_until
from tests.support.process_trees import TREE, children

pytestmark = pytest.mark.integration


def _deployment(tmp_path: Path) -> Deployment:
    supervisor = Supervisor(tmp_path / "dep")
    for name in ("monolith", "postgres"):
        supervisor.start(name, TREE, health=lambda name=name: bool(children(supervisor, name)))
    return Deployment("monolith", "http://127.0.0.1:1", tmp_path / "dep", supervisor)


def _start_load(tmp_path: Path) -> float:
    origin = time.time()
    (tmp_path / "started.json").write_text(json.dumps({"epoch_s": origin}))
    return origin


def test_faults_fire_on_time_and_are_lifted_and_recorded(tmp_path: Path) -> None:
    dep = _deployment(tmp_path)
    restarted: list[ManagedProcess] = []
    faults = [(0, Fault(at_s=0.2, action="kill", target="monolith", duration_s=0.3)),
              (3, Fault(at_s=0.4, action="pause", target="postgres", duration_s=0.5))]
    try:
        first_pid = dep.supervisor.get("monolith").pid
        with Injector(dep, faults, tmp_path / "started.json", tmp_path, normal_latency="none",
                      on_restart=restarted.append) as injector:
            origin = _start_load(tmp_path)
            db = psutil.Process(dep.supervisor.get("postgres").pid)
            wait_until(lambda: db.status() == psutil.STATUS_STOPPED, 5, "postgres paused")
            wait_until(lambda: db.status() != psutil.STATUS_STOPPED, 5, "postgres resumed")
            wait_until(lambda: len(restarted) == 1, 5, "the monolith restarted")
        records = json.loads((tmp_path / FAULTS_FILE).read_text())
        kill, pause = records["faults"]
        assert records["origin_epoch"] == origin
        assert (kill["index"], pause["index"]) == (0, 3)  # their places in the scenario
        assert abs(kill["started_epoch"] - (origin + 0.2)) < 0.15
        assert kill["processes_killed"] == 2 and kill["restart_s"] is not None
        assert kill["ended_epoch"] >= kill["started_epoch"] + 0.3
        assert pause["processes_paused"] == 2
        assert 0.45 < pause["ended_epoch"] - pause["started_epoch"] < 1.5
        assert all(r["error"] is None for r in records["faults"])
        assert restarted[0].pid != first_pid and dep.supervisor.get("monolith").running()
        assert injector.killed_for_good() == []
    finally:
        dep.supervisor.stop_all()


def test_leaving_early_resumes_a_paused_process_and_leaves_a_kill_down(tmp_path: Path) -> None:
    dep = _deployment(tmp_path)
    faults = [(0, Fault(at_s=0.0, action="pause", target="postgres", duration_s=60)),
              (1, Fault(at_s=0.1, action="kill", target="monolith", duration_s=60))]
    try:
        with Injector(dep, faults, tmp_path / "started.json", tmp_path, normal_latency="none",
                      on_restart=lambda proc: None) as injector:
            _start_load(tmp_path)
            db = psutil.Process(dep.supervisor.get("postgres").pid)
            # generous bounds: a loaded machine can delay the signals, and waiting longer
            # changes nothing of what is asserted
            wait_until(lambda: db.status() == psutil.STATUS_STOPPED, 30, "postgres paused")
            wait_until(lambda: not dep.supervisor.get("monolith").running(), 30,
                       "the monolith killed")
            leaving = time.time()
        assert db.status() != psutil.STATUS_STOPPED  # resumed on the way out, at once
        assert injector.killed_for_good() == ["monolith"]  # the runner starts it for the check
        pause = json.loads((tmp_path / FAULTS_FILE).read_text())["faults"][0]
        # lifted when the block was left, long before its 60 s were up
        assert leaving <= pause["ended_epoch"] < leaving + 30
    finally:
        dep.supervisor.stop_all()


def test_faults_that_never_see_the_load_start_say_so(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("harness.load.faults.STARTED_TIMEOUT_S", 0.2)
    dep = _deployment(tmp_path)
    try:
        with Injector(dep, [(0, Fault(at_s=0, action="restart", target="monolith"))],
                      tmp_path / "started.json", tmp_path, normal_latency="none",
                      on_restart=lambda proc: None) as injector:
            wait_until(lambda: injector.records[0]["error"], 5, "the injector giving up on the load's start")
        fault = json.loads((tmp_path / FAULTS_FILE).read_text())["faults"][0]
        assert fault["started_epoch"] is None and "the load never started" in fault["error"]
    finally:
        dep.supervisor.stop_all()
