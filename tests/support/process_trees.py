"""Tiny real process trees for the supervisor and the fault injector to kill, pause and restart,
and the CPUs a process may run on as the kernel reports them."""

from __future__ import annotations

import sys
from pathlib import Path

import psutil

from harness.deploy.supervisor import Supervisor

_PARENT = ("import signal, subprocess, sys, time\n"
           "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
           "{on_term}"
           "print('ready', flush=True)\n"
           "time.sleep(600)\n")
# a parent that starts a child and stops it when asked to stop: a tree like uvicorn's or postgres'
TREE = [sys.executable, "-c", _PARENT.format(
    on_term="signal.signal(signal.SIGTERM, lambda *_: (child.kill(), child.wait(), sys.exit(0)))\n")]
# a parent that dies on SIGTERM and leaves its child running
CARELESS_TREE = [sys.executable, "-c", _PARENT.format(on_term="")]


def children(supervisor: Supervisor, name: str) -> list[psutil.Process]:
    return psutil.Process(supervisor.get(name).pid).children(recursive=True)


def allowed_cpus(pid: int) -> set[int]:
    """Cpus_allowed_list of /proc/PID/status (e.g. `0-2,5`): the CPUs `pid` may run on."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Cpus_allowed_list:"):
            cpus: set[int] = set()
            for part in line.split(":", 1)[1].strip().split(","):
                low, _, high = part.partition("-")
                cpus.update(range(int(low), int(high or low) + 1))
            return cpus
    raise AssertionError(f"/proc/{pid}/status has no Cpus_allowed_list")
