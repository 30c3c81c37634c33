"""The integration tests' small dataset, a health probe, and a monolith on its own database with its own
payment provider (started by the `monolith_stack` fixture in tests/integration/conftest.py)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from harness.deploy.supervisor import ManagedProcess, Supervisor
from tests.support.db import fetch
from tests.support.paths import ROOT

DATASET = {"hotels": 2, "room_types_per_hotel": 2, "units_per_room_type": 3,
           "start_date": "2027-01-01", "horizon_days": 30}


def http_ok(url: str) -> Callable[[], bool]:
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
            health=http_ok(f"{self.url}/health"),
        )

    def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return fetch(self.dsn, sql, *args)

    def ledger(self) -> dict[str, list[dict[str, Any]]]:
        return httpx.get(f"{self.provider_url}/ledger", timeout=10).json()

    def held(self) -> dict[tuple[str, str], int]:
        rows = self.fetch("SELECT room_type_id, night::text, held FROM inventory WHERE held <> 0")
        return {(r["room_type_id"], r["night"]): r["held"] for r in rows}


StartStack = Callable[..., MonolithStack]
