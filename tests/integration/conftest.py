"""Real PostgreSQL (the embedded wheel), a real payment provider and monolith processes, each
started through the harness's supervisor and stopped by it."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.deploy.nats import NatsServer
from harness.deploy.nats import start_embedded as start_nats
from harness.deploy.postgres import PostgresServer, start_embedded
from harness.deploy.supervisor import Supervisor, free_port
from tests.integration.ms_support import Deployment
from tests.support.paths import ROOT
from tests.support.stacks import DATASET, MonolithStack, StartStack, http_ok


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    with Supervisor(tmp_path_factory.mktemp("pg")) as supervisor:
        yield start_embedded(supervisor)


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A fresh JetStream server per test: streams and consumers never leak between tests."""
    with Supervisor(tmp_path / "nats-server") as supervisor:
        yield start_nats(supervisor)


@pytest.fixture
def monolith_stack(postgres: PostgresServer, tmp_path: Path) -> Iterator[StartStack]:
    supervisors: list[Supervisor] = []

    def start(*, latency: str = "none", workers: int = 2) -> MonolithStack:
        supervisor = Supervisor(tmp_path / f"stack{len(supervisors)}")
        supervisors.append(supervisor)
        name = f"it_{uuid.uuid4().hex[:12]}"
        dsn = postgres.create_database(name)
        init = subprocess.run(
            [sys.executable, "-m", "apps.monolith", "init", "--dsn", dsn,
             "--dataset", json.dumps(DATASET)],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )
        assert init.returncode == 0, init.stderr
        provider_port = free_port()
        supervisor.start(
            "payment_provider",
            [sys.executable, "-m", "apps.payment_provider", "--port", str(provider_port),
             "--latency", latency, "--ledger", str(supervisor.root / "ledger.jsonl")],
            cwd=ROOT, health=http_ok(f"http://127.0.0.1:{provider_port}/health"),
        )
        stack = MonolithStack(supervisor, dsn, f"http://127.0.0.1:{provider_port}", free_port(),
                              workers)
        stack.start_monolith()
        return stack

    yield start
    for supervisor in supervisors:
        supervisor.stop_all()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def deployment(postgres: PostgresServer, nats_server: NatsServer,
               tmp_path: Path) -> Iterator[Deployment]:
    """Microservices started one by one by the test (tests/integration/ms_support.py)."""
    deployment = Deployment(postgres, nats_server, tmp_path / "ms")
    try:
        yield deployment
    finally:
        deployment.close()
