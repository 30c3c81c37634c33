"""Real PostgreSQL (the embedded wheel), a real payment provider and monolith processes, each
started through the harness's supervisor and stopped by it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from harness.deploy.nats import NatsServer
from harness.deploy.nats import start_embedded as start_nats
from harness.deploy.postgres import PostgresServer, start_embedded
from harness.deploy.supervisor import ManagedProcess, Supervisor, free_port

ROOT = Path(__file__).resolve().parents[2]
DATASET = {"hotels": 2, "room_types_per_hotel": 2, "units_per_room_type": 3,
           "start_date": "2027-01-01", "horizon_days": 30}


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    with Supervisor(tmp_path_factory.mktemp("pg")) as supervisor:
        yield start_embedded(supervisor)


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A fresh JetStream server per test: streams and consumers never leak between tests."""
    with Supervisor(tmp_path / "nats-server") as supervisor:
        yield start_nats(supervisor)


def _http_ok(url: str) -> Callable[[], bool]:
    return lambda: httpx.get(url, timeout=1).status_code == 200


@dataclass
class MonolithStack:
    """A monolith on its own fresh database, with its own payment provider."""

    supervisor: Supervisor
    dsn: str
    provider_url: str
    port: int
    workers: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_monolith(self) -> ManagedProcess:
        return self.supervisor.start(
            "monolith",
            [sys.executable, "-m", "apps.monolith", "serve", "--port", str(self.port),
             "--workers", str(self.workers)],
            cwd=ROOT, timeout=60,
            env={"ARCHBENCH_DSN": self.dsn, "ARCHBENCH_PAYMENT_URL": self.provider_url,
                 "ARCHBENCH_RECOVERY_INTERVAL_S": "0.5"},
            health=_http_ok(f"{self.url}/health"),
        )

    def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async def go() -> list[asyncpg.Record]:
            conn = await asyncpg.connect(self.dsn)
            try:
                return await conn.fetch(sql, *args)
            finally:
                await conn.close()

        return asyncio.run(go())

    def ledger(self) -> dict[str, list[dict[str, Any]]]:
        return httpx.get(f"{self.provider_url}/ledger", timeout=10).json()

    def held(self) -> dict[tuple[str, str], int]:
        rows = self.fetch("SELECT room_type_id, night::text, held FROM inventory WHERE held <> 0")
        return {(r["room_type_id"], r["night"]): r["held"] for r in rows}


StartStack = Callable[..., MonolithStack]


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
            cwd=ROOT, health=_http_ok(f"http://127.0.0.1:{provider_port}/health"),
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
               tmp_path: Path) -> Iterator[Any]:
    """Microservices started one by one by the test (tests/integration/ms_support.py)."""
    from tests.integration.ms_support import Deployment  # it imports this module's constants

    deployment = Deployment(postgres, nats_server, tmp_path / "ms")
    try:
        yield deployment
    finally:
        deployment.close()
