"""Faults under load, end to end: scenarios/chaos.yaml kills and restarts every microservice, the
broker and the monolith (each in its own run) and slows the payment provider; a second scenario
hits the infrastructure (PostgreSQL frozen and killed, Caddy redeployed, the provider killed, a
service frozen). After each, `archbench check` finds every invariant holding, the report shows each
fault's cost side by side, and nothing is left running. A Ctrl-C while a process is frozen resumes
and stops everything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

from harness.config.loading import load_scenario
from tests.support.deployments import ROOT, die_with_pytest, stop_alone, while_running
from tests.support.polling import wait_until

pytestmark = pytest.mark.e2e
CHAOS = ROOT / "scenarios" / "chaos.yaml"
INFRA = Path(__file__).with_name("faults_infra.yaml")
READS = {"search_availability", "list_hotels", "view_booking", "list_customer_bookings"}


def _archbench(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, check=False, preexec_fn=die_with_pytest,
                          env={**os.environ, "COLUMNS": "200"})


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


def _leftovers(folder: Path) -> list[str]:
    """Processes whose command line names the run folder (every app, server and generator does)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(folder) in cmdline:
            found.append(f"{proc.pid}: {cmdline[:120]}")
    return found


def _assert_every_fault_happened(run: Path, expected: list[tuple[str, str]]) -> dict[str, Any]:
    recorded = _json(run / "faults.json")["faults"]
    assert [(f["action"], f["target"]) for f in recorded] == expected
    for fault in recorded:
        assert fault["error"] is None, fault
        assert fault["started_epoch"], fault
        if fault["action"] == "kill":
            assert fault["processes_killed"] >= 1, fault
            if fault["restart"]:
                assert fault["restart_s"] is not None, fault
            else:
                assert fault["ended_epoch"] is None, fault
                continue
        assert fault["ended_epoch"] > fault["started_epoch"], fault
    return {f"{f['action']} {f['target']}": f for f in _json(run / "resilience.json")["faults"]}


def _assert_checked_clean(run: Path, architecture: str) -> dict[str, Any]:
    check = _json(run / "check.json")
    assert check["architecture"] == architecture
    assert check["ok"] is True and check["totals"]["violations"] == 0, check
    assert check["quiescence"]["quiescent"] is True
    assert [inv["violation_count"] for inv in check["invariants"]] == [0] * 5
    assert check["totals"]["bookings"] > 50  # the load booked for real
    return check


def test_chaos_kills_every_microservice_the_broker_and_the_monolith_and_no_invariant_breaks(
        tmp_path: Path) -> None:
    out = tmp_path / "chaos"
    result = _archbench("run", str(CHAOS), "--out", str(out))

    assert result.returncode == 0, result.stderr[-3000:]
    assert "invariants: all five hold in every run" in result.stderr
    assert _leftovers(out) == []
    scenario = load_scenario(CHAOS)
    for arch in ("monolith", "microservices"):
        run = out / "runs" / arch / "r0" / "s0"
        expected = [(f.action, f.target) for f in scenario.faults if f.applies_to(arch)]
        faults = _assert_every_fault_happened(run, expected)
        check = _assert_checked_clean(run, arch)
        assert (run / "load" / "requests.csv").is_file()
        if arch == "monolith":
            # its one process is the whole application: while it is down, every request fails
            killed = faults["kill monolith"]
            assert killed["failed_total"] > 0 and READS & set(killed["failed_during"])
        else:
            # bookings and cancels go to the booking service; reads never wait on it
            killed = faults["kill booking"]
            assert set(killed["failed_during"]) & {"book", "cancel"}
            assert not READS & set(killed["failed_during"])
            assert faults["kill nats"]["backlog"] is not None
            assert (run / "backlog.csv").stat().st_size > 1000
            assert (run / "readlag.csv").is_file()
            replayed = check["invariants"][4]["checked"]
            assert replayed["booking_events_replayed"] > 0 and replayed["query_rows_replayed"] > 0

    report = (out / "report.md").read_text()
    assert "## Resilience" in report and "## Invariants" in report
    assert "(plots/faults.png)" in report and (out / "plots" / "faults.png").stat().st_size > 10_000
    for fault in scenario.faults:
        assert f"| {fault.action} {fault.target} at {fault.at_s:g} s |" in report

    checked = _archbench("check", str(out), timeout=120)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.count("all five invariants hold") == 2


def test_faults_on_the_infrastructure_leave_the_invariants_holding(tmp_path: Path) -> None:
    out = tmp_path / "infra"
    result = _archbench("run", str(INFRA), "--out", str(out))

    assert result.returncode == 0, result.stderr[-3000:]
    assert _leftovers(out) == []
    run = out / "runs" / "microservices" / "r0" / "s0"
    faults = _assert_every_fault_happened(run, [
        ("pause", "postgres"), ("restart", "caddy"), ("kill", "payment_provider"),
        ("kill", "postgres"), ("pause", "inventory"), ("kill", "notification")])
    never_restarted = faults["kill notification"]
    assert never_restarted["lifted"] is False and never_restarted["restart_s"] is None
    assert _json(run / "info.json")["restarted_for_check"] == ["notification"]
    _assert_checked_clean(run, "microservices")
    # every database connection of every service died with PostgreSQL: requests failed, then
    # every service reconnected by itself
    killed = faults["kill postgres"]
    assert killed["failed_total"] > 0 and killed["recovery_s"] is not None


def test_ctrl_c_while_a_process_is_frozen_resumes_and_stops_everything(tmp_path: Path) -> None:
    scenario = tmp_path / "pause.yaml"
    scenario.write_text(yaml.safe_dump({
        "name": "pause", "architectures": ["monolith"], "duration_s": 60, "warmup_s": 1,
        "load": {"model": "open", "rate": 5}, "sim": {"enabled": False},
        "audit": {"enabled": False},
        "faults": [{"at_s": 2, "action": "pause", "target": "monolith", "duration_s": 50}]}))
    out = tmp_path / "run"
    faults_file = out / "runs" / "monolith" / "r0" / "s0" / "faults.json"
    with open(tmp_path / "stderr", "w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "harness", "run", str(scenario), "--out",
                                    str(out)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr,
                                   preexec_fn=die_with_pytest)
    wait_until(while_running(process, lambda: faults_file.exists()
                             and _json(faults_file)["faults"][0]["started_epoch"]),
               120, "the pause began", 0.1)
    children = psutil.Process(process.pid).children(recursive=True)
    assert any(p.status() == psutil.STATUS_STOPPED for p in children)

    code, survivors = stop_alone(process)

    assert code == 130
    assert survivors == [] and _leftovers(out) == []
    recorded = _json(faults_file)["faults"][0]
    assert recorded["ended_epoch"] is not None  # the pause was lifted before the teardown
