"""The CLI survives bad input: a broken scenario, a port in use, a missing binary, an existing
output folder, a truncated run folder or a bad argument each end the command at once, non-zero,
with one line of error, before anything is deployed or written and with no process left behind."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from harness.deploy.binaries import find_binary
from tests.support.deployments import ROOT, die_with_pytest

pytestmark = pytest.mark.e2e

SAMPLE = ROOT / "results" / "sample"
RUN_SMALL = ROOT / "tests" / "e2e" / "run_small.yaml"
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"
ARCHBENCH = Path(sys.executable).with_name("archbench")  # the entry point a user runs
PR_SET_CHILD_SUBREAPER = 36

Snapshot = dict[str, tuple[bytes | None, int]]


def snapshot(folder: Path) -> Snapshot:
    """Every file's bytes and every entry's mtime under `folder`: a write, even one undone, shows."""
    entries = [folder, *sorted(folder.rglob("*"))]
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() and not p.is_symlink() else None,
                                         p.lstat().st_mtime_ns)
            for p in entries}


@contextlib.contextmanager
def adopting_orphans() -> Iterator[None]:
    """Make this process the subreaper of what it starts, so that a grandchild the CLI leaves
    running becomes our child (and visible) instead of init's."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    try:
        yield
    finally:
        prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def leftovers(tmp_path: Path, children_before: set[int]) -> list[str]:
    """Processes still alive that the command started: new children of this process (orphans
    adopted), or any process whose command line names the test's folder. They are killed."""
    found: dict[int, psutil.Process] = {}
    for child in psutil.Process().children(recursive=True):
        if child.pid in children_before:
            continue
        with contextlib.suppress(psutil.NoSuchProcess):
            if child.status() == psutil.STATUS_ZOMBIE:  # exited: reap it, it is not left behind
                os.waitpid(child.pid, os.WNOHANG)
                continue
            found[child.pid] = child
    for proc in psutil.process_iter(["cmdline"]):
        if proc.pid != os.getpid() and str(tmp_path) in " ".join(proc.info["cmdline"] or ()):
            found[proc.pid] = proc
    described = []
    for proc in found.values():
        with contextlib.suppress(psutil.NoSuchProcess):
            described.append(f"{proc.pid} {' '.join(proc.cmdline())}")
            proc.kill()
    psutil.wait_procs(list(found.values()), timeout=5)
    return described


def archbench(tmp_path: Path, *args: str | Path, env: dict[str, str] | None = None
              ) -> subprocess.CompletedProcess[str]:
    """`archbench ARGS` from an empty working folder in tmp_path (so that a default output folder
    would show there), at a terminal width where rich never wraps; asserts that it wrote nothing
    under tmp_path, left no process behind and printed no traceback."""
    cwd = tmp_path / "cwd"
    cwd.mkdir(exist_ok=True)
    before = snapshot(tmp_path)
    children_before = {p.pid for p in psutil.Process().children(recursive=True)}
    with adopting_orphans():
        result = subprocess.run(
            [str(ARCHBENCH), *map(str, args)], cwd=cwd, capture_output=True,
            text=True, timeout=60, check=False, preexec_fn=die_with_pytest,
            env={**os.environ, "COLUMNS": "400", "TERM": "dumb", **(env or {})},
        )
    assert leftovers(tmp_path, children_before) == []
    assert "Traceback" not in result.stderr, result.stderr
    assert snapshot(tmp_path) == before, "the command wrote under tmp_path"
    return result


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The harness's own error: exit 1, a single `error:` line on stderr."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


# --- a scenario that is malformed or inconsistent ------------------------------------------------

SCENARIOS = {
    "negative-rate": ("load: {rate: -5}\n", ["load.rate: Input should be greater than 0"]),
    "warmup-past-duration": ("duration_s: 5\nwarmup_s: 10\n",
                             ["warmup_s (10.0) must be shorter than duration_s (5.0)"]),
    "unknown-architecture": ("architectures: [monolith, serverless]\n",
                             ["architectures.1: unknown architecture 'serverless'",
                              "known: monolith, microservices"]),
    "unknown-fault-target": ("faults: [{at_s: 1, action: kill, target: paymnt}]\n",
                             ["faults.0.target: unknown deployable 'paymnt'", "known: monolith"]),
    "fault-target-not-deployed": (
        "architectures: [monolith]\nfaults: [{at_s: 1, action: kill, target: inventory}]\n",
        ["faults.0.target: 'inventory' is not part of monolith"]),
    "fault-past-the-load": (
        "duration_s: 10\nwarmup_s: 2\n"
        "faults: [{at_s: 8, action: pause, target: postgres, duration_s: 5}]\n",
        ["faults.0: at_s + duration_s (13)", "past the end of the load (duration_s 10)"]),
    "slow-without-latency": (
        "faults: [{at_s: 1, action: slow, target: payment_provider, duration_s: 2}]\n",
        ["faults.0.latency: a slow fault needs a latency, e.g. fixed:0.5"]),
    "unknown-key": ("load: {rat: 5}\n", ["load.rat: unknown key"]),
    "invalid-yaml": ("load: {rate: 5\nduration_s: [1,\n",
                     ["not valid YAML: line 2, column 11: expected ',' or '}'"]),
}


@pytest.mark.parametrize("case", SCENARIOS)
def test_a_bad_scenario_is_one_line_naming_the_key_and_nothing_is_written(
        tmp_path: Path, case: str) -> None:
    text, expected = SCENARIOS[case]
    scenario = tmp_path / f"{case}.yaml"
    scenario.write_text(text)

    line = one_error_line(archbench(tmp_path, "run", scenario, "--out", tmp_path / "out"))

    assert str(scenario) in line
    for part in expected:
        assert part in line
    assert not (tmp_path / "out").exists()


# --- the machine: a port in use, a missing binary -------------------------------------------------


def test_a_port_in_use_is_one_line_naming_it_and_nothing_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        line = one_error_line(archbench(tmp_path, "up", "monolith", "--port", str(port),
                                        "--workdir", tmp_path / "dep"))

    assert f"port {port} on 127.0.0.1 is already in use" in line
    assert not (tmp_path / "dep").exists()


@pytest.mark.parametrize(("present", "command", "missing"), [
    ((), ("run", RUN_SMALL, "--out", "{tmp}/out"), "caddy"),
    ((), ("up", "microservices", "--workdir", "{tmp}/dep"), "caddy"),
    (("caddy",), ("up", "microservices", "--workdir", "{tmp}/dep"), "nats-server"),
    (("caddy",), ("run", RUN_SMALL, "--out", "{tmp}/out"), "nats-server"),
], ids=["run-no-caddy", "up-no-caddy", "up-no-nats", "run-no-nats"])
def test_a_missing_binary_is_one_line_naming_it_and_nothing_is_created(
        tmp_path: Path, present: tuple[str, ...], command: tuple[str | Path, ...],
        missing: str) -> None:
    binaries = tmp_path / "bin"  # $ARCHBENCH_BINARIES: find_binary looks there only
    binaries.mkdir()
    for name in present:
        (binaries / name).symlink_to(find_binary(name))
    args = [str(arg).format(tmp=tmp_path) for arg in command]

    line = one_error_line(archbench(tmp_path, *args, env={"ARCHBENCH_BINARIES": str(binaries)}))

    assert f"{missing} not found in {binaries}" in line
    assert not (tmp_path / "out").exists() and not (tmp_path / "dep").exists()


# --- an output folder that exists -----------------------------------------------------------------


@pytest.mark.parametrize("command", [
    ("run", RUN_SMALL), ("audit", "--no-live"), ("sim", QUICKSTART),
], ids=["run", "audit", "sim"])
def test_an_existing_output_folder_is_refused_and_left_as_it_was(
        tmp_path: Path, command: tuple[str | Path, ...]) -> None:
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "notes.txt").write_text("a user's file\n")

    line = one_error_line(archbench(tmp_path, *command, "--out", existing))

    assert f"{existing} already exists; choose another with --out" in line
    assert (existing / "notes.txt").read_text() == "a user's file\n"  # and the snapshot: its mtime


# --- a run folder that is truncated ---------------------------------------------------------------


def _finished_runs(folder: Path) -> list[str]:
    return [entry["path"] for entry in json.loads((folder / "run.json").read_text())["runs"]]


def _cut_in_half(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _cut_mid_line(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2].rstrip(b"\n"))


def _damage_run_json(folder: Path) -> str:
    _cut_in_half(folder / "run.json")
    return "run.json"


def _delete_a_summary(folder: Path) -> str:
    damaged = f"{_finished_runs(folder)[-1]}/load/summary.json"
    (folder / damaged).unlink()
    return damaged


def _cut_metrics(folder: Path) -> str:
    damaged = f"{_finished_runs(folder)[1]}/metrics.csv"
    _cut_mid_line(folder / damaged)
    return damaged


def _cut_windows(folder: Path) -> str:
    damaged = f"{_finished_runs(folder)[0]}/load/windows.csv"
    _cut_mid_line(folder / damaged)
    return damaged


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "sample"
    shutil.copytree(SAMPLE, copy)
    return copy


@pytest.mark.parametrize("command", ["report", "check"])
@pytest.mark.parametrize("damage", [_damage_run_json, _delete_a_summary, _cut_metrics, _cut_windows],
                         ids=["run-json-cut", "summary-deleted", "metrics-cut", "windows-cut"])
def test_a_truncated_run_folder_is_one_line_naming_the_file_and_nothing_is_rewritten(
        tmp_path: Path, sample_copy: Path, command: str, damage: Callable[[Path], str]) -> None:
    damaged = damage(sample_copy)
    reports = {name: (sample_copy / name).read_bytes()
               for name in ("report.md", "report.html", "summary.csv")}

    line = one_error_line(archbench(tmp_path, command, sample_copy))

    assert "truncated" in line and damaged in line
    assert {name: (sample_copy / name).read_bytes() for name in reports} == reports


def test_check_on_the_committed_sample_says_which_runs_were_never_checked(
        tmp_path: Path, sample_copy: Path) -> None:
    runs = _finished_runs(sample_copy)
    unchecked = [run for run in runs if not (sample_copy / run / "check.json").is_file()]

    result = archbench(tmp_path, "check", sample_copy)

    assert result.returncode == (1 if unchecked else 0), result.stderr
    for run in runs:
        assert run in result.stdout
    problems = result.stderr.strip().splitlines()
    assert [p.split(":", 1)[0] for p in problems] == unchecked
    assert all("not checked" in p for p in problems)


# --- arguments typer refuses ----------------------------------------------------------------------


@pytest.mark.parametrize("command", [
    ("run", "{tmp}/nosuch.yaml"), ("up", "nosuch"), ("check", "{tmp}/nosuch"),
], ids=["run-missing-scenario", "up-unknown-architecture", "check-missing-folder"])
def test_a_bad_argument_is_a_usage_error_and_nothing_is_created(
        tmp_path: Path, command: tuple[str, ...]) -> None:
    result = archbench(tmp_path, *(arg.format(tmp=tmp_path) for arg in command))

    assert result.returncode != 0
    assert f"Usage: archbench {command[0]}" in result.stderr and "Invalid value for" in result.stderr
    assert not any((tmp_path / "cwd").iterdir())  # no default results/ or .deployments/ either
