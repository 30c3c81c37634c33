"""The unit suite's guard (tests/unit/conftest.py) fails any unit test that starts a process or a
server, whichever way it tries, and says where such a test belongs."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable

import pytest

MOVE = r"tests/unit starts no process, kernel or server: .* belongs in tests/integration"


async def _asyncio_subprocess() -> None:
    await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")


def _listen() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()


ATTEMPTS: dict[str, Callable[[], object]] = {
    "subprocess.run": lambda: subprocess.run([sys.executable, "-c", "pass"], check=False),
    "subprocess.Popen": lambda: subprocess.Popen(["true"]),
    "asyncio": lambda: asyncio.run(_asyncio_subprocess()),
    "multiprocessing-spawn": lambda: multiprocessing.get_context("spawn").Process(target=print).start(),
    "multiprocessing-fork": lambda: multiprocessing.get_context("fork").Process(target=print).start(),
    "os.fork": lambda: os.fork(),
    "os.posix_spawn": lambda: os.posix_spawn("/bin/true", ["true"], {}),
    "os.system": lambda: os.system("true"),
    "a server": _listen,
}


@pytest.mark.parametrize("attempt", ATTEMPTS.values(), ids=ATTEMPTS.keys())
def test_starting_a_process_or_a_server_fails_the_unit_test(attempt: Callable[[], object]) -> None:
    with pytest.raises(pytest.fail.Exception, match=MOVE):
        attempt()


def test_the_failure_is_not_hidden_by_code_that_catches_exceptions() -> None:
    def careless() -> None:
        with contextlib.suppress(Exception):  # what a careless caller does
            subprocess.run(["true"], check=False)

    with pytest.raises(pytest.fail.Exception, match=MOVE):
        careless()


@pytest.fixture(scope="module")
def refusal_in_a_module_fixture() -> str:
    try:
        subprocess.run(["true"], check=False)
    except pytest.fail.Exception as refused:
        return str(refused)
    return "the module fixture started a process"


def test_a_fixture_shared_by_a_module_is_refused_too(refusal_in_a_module_fixture: str) -> None:
    assert re.search(MOVE, refusal_in_a_module_fixture), refusal_in_a_module_fixture
    assert "['true']" in refusal_in_a_module_fixture  # the command is named
