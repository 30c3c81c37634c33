"""The supervisor pins what it starts: every process of a deployment on the supervisor's CPUs,
a process started with its own set (the load generator) on that one, the children of each
inheriting it, and a restart keeping it. Read back from /proc, as the kernel has it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.deploy.pinning import affinities
from harness.deploy.supervisor import Supervisor
from tests.support.process_trees import TREE, children
from tests.support.process_trees import allowed_cpus as allowed

pytestmark = pytest.mark.integration

CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
needs_two = pytest.mark.skipif(len(CPUS) < 2, reason="pinning apart needs two CPUs")


def _tree_of(supervisor: Supervisor, name: str) -> list[int]:
    return [supervisor.get(name).pid, *(c.pid for c in children(supervisor, name))]


@needs_two
def test_processes_and_their_children_run_on_the_supervisors_cpus_or_their_own(
        tmp_path: Path) -> None:
    system, generator = set(CPUS[:-1]), {CPUS[-1]}
    with Supervisor(tmp_path, cpus=frozenset(system)) as supervisor:
        for name, cpus in (("app", None), ("generator", generator)):
            supervisor.start(name, TREE, cpus=cpus, health=lambda n=name: bool(children(supervisor, n)))

        assert all(allowed(pid) == system for pid in _tree_of(supervisor, "app"))
        assert all(allowed(pid) == generator for pid in _tree_of(supervisor, "generator"))
        assert affinities(supervisor.processes) == {"app": sorted(system),
                                                    "generator": sorted(generator)}


@needs_two
def test_a_restarted_process_keeps_its_cpus(tmp_path: Path) -> None:
    with Supervisor(tmp_path, cpus=frozenset({CPUS[0]})) as supervisor:
        supervisor.start("app", TREE, health=lambda: bool(children(supervisor, "app")))
        supervisor.restart("app")

        assert all(allowed(pid) == {CPUS[0]} for pid in _tree_of(supervisor, "app"))


def test_a_supervisor_without_cpus_leaves_processes_where_the_os_puts_them(tmp_path: Path) -> None:
    with Supervisor(tmp_path) as supervisor:
        supervisor.start("app", TREE, health=lambda: bool(children(supervisor, "app")))

        assert allowed(supervisor.get("app").pid) == set(CPUS)
