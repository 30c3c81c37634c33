"""The shared inventory SQL (apps.platform.inventory) on a database of its own, called
synchronously, so the backend-neutral suites (tests/inventory_contract.py,
tests/booking_workflow.py) run on it as they run on the in-memory twin."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import date
from typing import Any, TypeVar

import asyncpg
import pytest

from apps.booking.dataset import DatasetSpec
from apps.platform import catalog, inventory
from harness.deploy.postgres import PostgresServer

T = TypeVar("T")


class SyncPostgresInventory:
    """Each call is one transaction of its own, as a request's would be: a refused release
    rolls back with it, so it changes nothing."""

    def __init__(self, postgres: PostgresServer, spec: DatasetSpec) -> None:
        self._postgres = postgres
        self._name = f"inv_{uuid.uuid4().hex[:12]}"
        self._loop = asyncio.new_event_loop()
        self._conn: asyncpg.Connection = self._run(
            asyncpg.connect(postgres.create_database(self._name)))
        self._in_tx(lambda conn: self._seed(conn, spec))

    @staticmethod
    async def _seed(conn: asyncpg.Connection, spec: DatasetSpec) -> None:
        await conn.execute(catalog.DDL + inventory.DDL)
        loaded = await catalog.seed(conn, spec)
        assert loaded is not None
        await inventory.seed(conn, loaded)

    def _run(self, work: Awaitable[T]) -> T:
        return self._loop.run_until_complete(work)

    def _in_tx(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        async def go() -> T:
            async with self._conn.transaction():
                return await work(self._conn)

        return self._run(go())

    def _call(self, method: str, *args: Any) -> Any:
        return self._in_tx(lambda conn: getattr(inventory.PostgresInventory(conn), method)(*args))

    def available_for_stay(self, room_type_id: str, check_in: date, nights: int) -> int:
        return self._call("available_for_stay", room_type_id, check_in, nights)

    def hold(self, room_type_id: str, check_in: date, nights: int, units: int) -> bool:
        return self._call("hold", room_type_id, check_in, nights, units)

    def release(self, room_type_id: str, check_in: date, nights: int, units: int) -> None:
        self._call("release", room_type_id, check_in, nights, units)

    def holds(self) -> dict[tuple[str, date], int]:
        return self._call("holds")

    def empty(self) -> SyncPostgresInventory:
        """Nothing held any more: a fresh inventory for the next test, without a new database."""
        self._run(self._conn.execute("UPDATE inventory SET held = 0 WHERE held <> 0"))
        return self

    def close(self) -> None:
        self._run(self._conn.close())
        self._loop.close()
        self._postgres.drop_database(self._name)


def inventory_database(spec: DatasetSpec) -> Any:
    """A module-scoped fixture `database`: one database of `spec` for the module's tests."""

    @pytest.fixture(scope="module")
    def database(postgres: PostgresServer) -> Iterator[SyncPostgresInventory]:
        backend = SyncPostgresInventory(postgres, spec)
        yield backend
        backend.close()

    return database
