"""tests/unit starts no process, kernel or server: while a unit test (or one of its fixtures) runs,
every way to start a process or listen on a socket fails the test with a message saying where such a
test belongs. Tests that need a real process live in tests/integration."""

from __future__ import annotations

import _posixsubprocess
import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest

MOVE = "tests/unit starts no process, kernel or server: {what} here belongs in tests/integration"


def _refuse(what: str) -> Callable[..., Any]:
    def refuse(*_: Any, **__: Any) -> Any:
        pytest.fail(MOVE.format(what=what), pytrace=True)  # a BaseException: no `except Exception` hides it

    return refuse


def _refuse_popen(popen: subprocess.Popen[Any], args: Any, *_: Any, **__: Any) -> Any:
    pytest.fail(MOVE.format(what=f"starting a subprocess ({args!r})"), pytrace=True)


def _forbid(monkeypatch: pytest.MonkeyPatch) -> None:
    # subprocess.run/Popen, asyncio's subprocesses, Jupyter kernels and Playwright all end in _execute_child
    monkeypatch.setattr(subprocess.Popen, "_execute_child", _refuse_popen)
    # multiprocessing's spawn and forkserver start methods
    monkeypatch.setattr(_posixsubprocess, "fork_exec", _refuse("starting a worker process"))
    for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "system"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, _refuse(f"os.{name}"))
    monkeypatch.setattr(socket.socket, "listen", _refuse("a listening server socket"))


def _guarded(item: pytest.Item) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        _forbid(monkeypatch)
        return (yield)


# around each phase of a unit test: its fixtures' setup and teardown too, module-scoped ones included
pytest_runtest_setup = pytest_runtest_call = pytest_runtest_teardown = pytest.hookimpl(wrapper=True)(_guarded)
