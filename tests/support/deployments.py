"""Start `archbench up` in a subprocess for tests, and prove it leaves nothing behind."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import psutil

from tests.support.paths import ROOT
from tests.support.polling import wait_until

T = TypeVar("T")


@dataclass
class RunningUp:
    architecture: str
    base_url: str
    process: subprocess.Popen[str]
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)  # what `archbench` was given besides ours

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def stop(self, sig: int = signal.SIGINT, timeout: float = 20.0) -> tuple[int, list[int]]:
        """Signal the parent alone; returns its exit code and the pids of children still alive."""
        return stop_alone(self.process, sig, timeout)


def stop_alone(process: subprocess.Popen[str], sig: int = signal.SIGINT,
               timeout: float = 60.0) -> tuple[int, list[int]]:
    """Signal a harness process alone, as a user's Ctrl-C would; returns its exit code and the
    pids of its children still alive after it exited (killed then, never left to the next test)."""
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    if process.poll() is None:
        process.send_signal(sig)
    try:
        code = process.wait(timeout)
    except subprocess.TimeoutExpired:
        code = -1
    _, alive = psutil.wait_procs(children, timeout=5)
    survivors = [p.pid for p in alive]
    for proc in alive:
        proc.kill()
    if process.poll() is None:
        process.kill()
        process.wait()
    return code, survivors


def die_with_pytest() -> None:
    """preexec_fn for a child the tests start: SIGTERM when pytest dies, even by SIGKILL, so the
    child (and through its own supervisor, everything it started) never outlives the tests."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


def start_up(architecture: str, workdir: Path, *extra: str, deadline_s: float = 120.0,
             env: dict[str, str] | None = None) -> RunningUp:
    """Run `archbench up` (with `env` added to ours) and wait for the base URL it prints."""
    env = env or {}
    argv = [sys.executable, "-m", "harness", "up", architecture, "--workdir", str(workdir), *extra]
    with open(workdir.parent / "up.stderr", "w") as stderr:
        process = subprocess.Popen(
            argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True,
            env={**os.environ, **env, "COLUMNS": "200"}, preexec_fn=die_with_pytest,
        )
    assert process.stdout is not None
    os.set_blocking(process.stdout.fileno(), False)
    printed = ""

    def base_url() -> str | None:
        nonlocal printed
        printed += process.stdout.readline() or ""
        if printed.endswith("\n"):
            return printed.strip()
        if process.poll() is not None:
            err = (workdir.parent / "up.stderr").read_text()
            raise AssertionError(f"archbench up exited {process.returncode}:\n{err}")
        return None

    try:
        return RunningUp(architecture, wait_until(base_url, deadline_s, "archbench up printing its base URL"),
                         process, workdir, env)
    except AssertionError:
        process.send_signal(signal.SIGINT)
        process.wait(20)
        raise


def while_running(process: subprocess.Popen[str], predicate: Callable[[], T]) -> Callable[[], T]:
    """`predicate` for `wait_until`, failing at once when `process` has exited: what it waits for will
    never come."""

    def check() -> T:
        assert process.poll() is None, f"{process.args!r} exited {process.returncode}"
        return predicate()

    return check
