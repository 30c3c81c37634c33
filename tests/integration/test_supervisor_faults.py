"""The supervisor's fault primitives on real (tiny) processes: kill takes the whole tree down,
frozen pauses and always resumes it, restart starts it again the same way and it survives the
thread that restarted it."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import psutil
import pytest

from harness.config.errors import HarnessError
from harness.deploy.supervisor import Supervisor, frozen
from tests.support.polling import wait_until
from tests.support.process_trees import CARELESS_TREE, TREE, children

pytestmark = pytest.mark.integration


def _tree(supervisor: Supervisor, name: str = "app", argv: list[str] = TREE) -> list[psutil.Process]:
    proc = supervisor.start(name, argv, health=lambda: bool(children(supervisor, name)))
    return [psutil.Process(proc.pid), *children(supervisor, name)]


def _gone(procs: list[psutil.Process]) -> bool:
    _, alive = psutil.wait_procs(procs, timeout=5)
    return not alive


def test_kill_takes_the_process_and_its_children_down(tmp_path: Path) -> None:
    with Supervisor(tmp_path) as supervisor:
        tree = _tree(supervisor)
        assert supervisor.kill("app") == 2
        assert _gone(tree)
        assert not supervisor.get("app").running()
        assert supervisor.get("app").popen.returncode == -9


def test_frozen_stops_every_process_of_the_tree_and_resumes_them_even_on_error(
        tmp_path: Path) -> None:
    with Supervisor(tmp_path) as supervisor:
        tree = _tree(supervisor)
        with pytest.raises(RuntimeError), frozen(supervisor.get("app")) as paused:
            assert {p.pid for p in paused} == {p.pid for p in tree}
            wait_until(lambda: all(p.status() == psutil.STATUS_STOPPED for p in tree), 5,
                       "every process of the tree stopped")
            raise RuntimeError("whatever fails while frozen")
        wait_until(lambda: all(p.status() != psutil.STATUS_STOPPED for p in tree), 5,
                   "every process of the tree resumed")


def test_restart_from_a_short_lived_thread_outlives_the_thread(tmp_path: Path) -> None:
    """The parent-death signal fires when the thread that forked a child ends: a process restarted
    by a fault's thread must not die with it."""
    with Supervisor(tmp_path) as supervisor:
        _tree(supervisor)
        supervisor.kill("app")
        restarted: list[int] = []
        worker = threading.Thread(target=lambda: restarted.append(supervisor.restart("app").pid))
        worker.start()
        worker.join(30)
        assert restarted and not worker.is_alive()
        time.sleep(0.5)  # long enough for a parent-death signal to have been delivered
        proc = supervisor.get("app")
        assert proc.running() and proc.pid == restarted[0] and proc.restarts == 1
        assert len(children(supervisor, "app")) == 1  # started again the same way
        assert "--- archbench: restarting app ---" in proc.log_path.read_text()
        # nothing blocked in it, though the thread that started it blocks SIGINT and SIGTERM:
        # it hears its stop signal and its parent-death signal
        status = Path(f"/proc/{proc.pid}/status").read_text()
        assert int(re.search(r"^SigBlk:\s*([0-9a-f]+)$", status, re.MULTILINE)[1], 16) == 0
        pids = [proc.pid, *(c.pid for c in children(supervisor, "app"))]
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                   for pid in pids)  # stop_all stopped the restarted tree too


def test_restart_of_a_running_process_stops_it_first(tmp_path: Path) -> None:
    with Supervisor(tmp_path) as supervisor:
        first = _tree(supervisor)
        supervisor.restart("app")
        assert _gone(first[:1])
        assert supervisor.get("app").running()


def test_a_process_that_is_not_running_cannot_be_frozen(tmp_path: Path) -> None:
    with Supervisor(tmp_path) as supervisor:
        _tree(supervisor)
        supervisor.kill("app")
        with pytest.raises(HarnessError, match="app is not running"), frozen(supervisor.get("app")):
            pass


def test_stopping_a_process_also_stops_what_it_left_behind(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path)
    tree = _tree(supervisor, argv=CARELESS_TREE)
    supervisor.stop_all()
    assert _gone(tree)  # the orphaned child too, listed before its parent was stopped
