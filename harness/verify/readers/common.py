"""Rows into the invariants' values, and the database connections a reader is given."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg
import httpx

from harness.config.errors import HarnessError
from harness.verify.invariants import Booking

BOOKING_COLUMNS = ("booking_id, customer_id, hotel_id, room_type_id, check_in, nights, units, "
                   "amount_cents, status, reason")
State = dict[str, Any]
Http = httpx.AsyncClient


class Databases(dict[str, asyncpg.Connection]):
    """One connection per database of the deployment, open for the duration of a block."""

    def __init__(self, dsns: dict[str, str]) -> None:
        super().__init__()
        self.dsns = dsns

    async def __aenter__(self) -> Databases:
        for name, dsn in self.dsns.items():
            try:
                self[name] = await asyncpg.connect(dsn, timeout=10)
            except (OSError, asyncpg.PostgresError) as exc:
                await self.__aexit__()
                raise HarnessError(f"cannot reach the {name} database at {dsn}: {exc}; is the "
                                   "deployment still running?") from exc
        return self

    async def __aexit__(self, *_: object) -> None:
        for conn in self.values():
            await conn.close()

    def only(self) -> asyncpg.Connection:
        """The one database of a single-database deployment."""
        (conn,) = self.values()
        return conn


def booking(row: asyncpg.Record) -> Booking:
    if row["room_type_id"] is None:  # events without their BookingRequested
        return Booking(row["booking_id"], "", "", "", date.min, 0, 0, 0,
                       "without BookingRequested", None)
    return Booking(row["booking_id"], row["customer_id"], row["hotel_id"], row["room_type_id"],
                   row["check_in"], row["nights"], row["units"], row["amount_cents"],
                   row["status"], row["reason"])


async def inventory(conn: asyncpg.Connection, table: str
                    ) -> dict[tuple[str, date], tuple[int, int]]:
    rows = await conn.fetch(f"SELECT room_type_id, night, capacity, held FROM {table}")
    return {(r["room_type_id"], r["night"]): (r["capacity"], r["held"]) for r in rows}
