"""Which CPUs the processes of a deployment actually run on, read back from the kernel: the proof
that the split a run asked for (harness.config.cpus) is the split it got."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import psutil

from harness.deploy.supervisor import ManagedProcess


def tree_affinity(pid: int) -> list[int] | None:
    """Every CPU that `pid` or one of its descendants may run on, or None when that cannot be
    read (the process is gone, or the platform does not say)."""
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    cpus: set[int] = set()
    for proc in tree:
        with contextlib.suppress(psutil.Error, AttributeError):
            cpus.update(proc.cpu_affinity())
    return sorted(cpus) or None


def affinities(processes: Iterable[ManagedProcess]) -> dict[str, list[int] | None]:
    """Process name -> the CPUs its tree may run on, for each running process."""
    return {p.name: tree_affinity(p.pid) for p in processes if p.running()}
