"""CPU and RSS of every process of a deployment (and of the load generator), sampled with psutil.

Each component is a process the supervisor started, counted with all its descendants (PostgreSQL's
backends, uvicorn's workers). Rows are appended to metrics.csv as they are taken, so an
interrupted run still leaves a valid file.
"""

from __future__ import annotations

import contextlib
import csv
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from harness.deploy.supervisor import start_quietly

Components = Callable[[], dict[str, int]]  # component name -> pid of its root process


def tree_usage(pid: int) -> tuple[float, int, int]:
    """(cumulative CPU seconds, RSS bytes, process count) of `pid` and its descendants."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0, 0, 0
    cpu, rss, alive = 0.0, 0, 0
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            times = proc.cpu_times()
            cpu += times.user + times.system
            rss += proc.memory_info().rss
            alive += 1
    return cpu, rss, alive


class Sampler:
    """Samples `components()` every `interval_s` in a thread until stopped."""

    def __init__(self, path: Path, components: Components, interval_s: float = 1.0) -> None:
        self.path = path
        self.components = components
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metrics-sampler", daemon=True)

    def __enter__(self) -> Sampler:
        start_quietly(self._thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        with open(self.path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["t", "component", "cpu_s", "rss_bytes"])
            # a component restarted (by a fault) is a new process whose CPU counts from 0: what
            # the old one used is carried over, so that cpu_s stays cumulative per component
            carried: dict[str, float] = {}
            last: dict[str, tuple[int, float]] = {}
            while True:
                now = time.time()
                for name, pid in list(self.components().items()):
                    cpu, rss, alive = tree_usage(pid)
                    if not alive:  # dead (killed by a fault): no row rather than a false 0
                        continue
                    if name in last and last[name][0] != pid:
                        carried[name] = carried.get(name, 0.0) + last[name][1]
                    last[name] = (pid, cpu)
                    total = cpu + carried.get(name, 0.0)
                    writer.writerow([f"{now:.3f}", name, f"{total:.3f}", rss])
                handle.flush()
                if self._stop.wait(self.interval_s):
                    return
