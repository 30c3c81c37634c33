"""Holds per (room type, night) and availability: the one SQL both architectures run.

A hold is one conditional UPDATE (`held + units <= capacity`) that takes the row locks in index
order, so concurrent stays do not deadlock each other in the common case; a savepoint undoes the
nights already taken when one night is short, so a stay is held on every night or on none.
`apps.booking.inventory.Inventory` is its in-memory twin; one contract test suite runs on both.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import asyncpg

from apps.booking.catalog import Catalog
from apps.booking.inventory import NotHeld, require_positive
from apps.booking.pricing import amount_cents, stay_end
from apps.contract.validation import CheckAvailability

DDL = """
CREATE TABLE IF NOT EXISTS inventory (
    room_type_id text NOT NULL REFERENCES room_types,
    night date NOT NULL,
    capacity integer NOT NULL,
    held integer NOT NULL DEFAULT 0 CHECK (held >= 0 AND held <= capacity),
    PRIMARY KEY (room_type_id, night)
);
"""
# Free units per night of a stay, from the holds themselves (the monolith) or from the query
# service's read model of them: the same statement on the same columns.
_FREE_NIGHTS = {
    "inventory": "SELECT room_type_id, capacity - held FROM inventory "
                 "WHERE room_type_id = ANY($1::text[]) AND night >= $2 AND night < $3",
    "availability_view": "SELECT room_type_id, capacity - held FROM availability_view "
                         "WHERE room_type_id = ANY($1::text[]) AND night >= $2 AND night < $3",
}


class _NotEnoughRooms(Exception):
    pass


class PostgresInventory:
    """The holds in the `inventory` table reached through `conn`, in the caller's transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def available_for_stay(self, room_type_id: str, check_in: date, nights: int) -> int:
        require_positive(nights=nights)
        free = await free_units(self.conn, [room_type_id], check_in, nights)
        return free.get(room_type_id, 0)

    async def hold(self, room_type_id: str, check_in: date, nights: int, units: int) -> bool:
        """Hold `units` on every night of the stay, or on none: False when one night is short
        (a night with no row, unknown or outside the horizon, is short)."""
        require_positive(nights=nights, units=units)
        try:
            async with self.conn.transaction():
                status = await self.conn.execute(
                    "UPDATE inventory SET held = held + $4 "
                    "WHERE room_type_id = $1 AND night >= $2 AND night < $3 "
                    "AND held + $4 <= capacity",
                    room_type_id, check_in, stay_end(check_in, nights), units,
                )
                if _rowcount(status) != nights:
                    raise _NotEnoughRooms
        except _NotEnoughRooms:
            return False
        return True

    async def release(self, room_type_id: str, check_in: date, nights: int, units: int) -> None:
        """Give back a hold; NotHeld if the stay does not hold that much (a bug: the caller's
        transaction must roll back, as the CHECK on `held` already aborted it)."""
        require_positive(nights=nights, units=units)
        try:
            status = await self.conn.execute(
                "UPDATE inventory SET held = held - $4 "
                "WHERE room_type_id = $1 AND night >= $2 AND night < $3",
                room_type_id, check_in, stay_end(check_in, nights), units,
            )
        except asyncpg.CheckViolationError:
            status = "UPDATE 0"
        if _rowcount(status) != nights:
            raise NotHeld(f"{room_type_id}: releasing {units} units from {check_in} for {nights} "
                          "nights exceeds what is held")

    async def holds(self) -> dict[tuple[str, date], int]:
        """Every non-zero hold, keyed by (room type, night)."""
        rows = await self.conn.fetch(
            "SELECT room_type_id, night, held FROM inventory WHERE held <> 0")
        return {(r["room_type_id"], r["night"]): r["held"] for r in rows}


async def seed(conn: asyncpg.Connection, catalog: Catalog) -> None:
    """Every night of the horizon starts with all units of every room type free (once)."""
    if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM inventory)"):
        return
    nights = catalog.horizon.nights()
    await conn.copy_records_to_table(
        "inventory",
        records=[(rt.room_type_id, night, rt.units, 0)
                 for rt in catalog.room_types() for night in nights],
        columns=["room_type_id", "night", "capacity", "held"],
    )


async def free_units(conn: asyncpg.Connection, room_type_ids: list[str], check_in: date,
                     nights: int, table: str = "inventory") -> dict[str, int]:
    """Per room type, the fewest units free on any night of the stay.

    Per-night rows, the minimum taken here: at most 14 nights x a few room types, and measured
    cheaper for the server than GROUP BY (which sorts) on this hot read.
    """
    rows = await conn.fetch(_FREE_NIGHTS[table], room_type_ids, check_in,
                            stay_end(check_in, nights))
    return min_available(((r[0], r[1]) for r in rows), nights)


def min_available(rows: Iterable[tuple[str, int]], nights: int) -> dict[str, int]:
    """Per room type, the fewest units free on any of `nights` nights; a room type missing a
    night (not for sale then) has none free."""
    available: dict[str, int] = {}
    counted: dict[str, int] = {}
    for room_type_id, units in rows:
        available[room_type_id] = min(units, available.get(room_type_id, units))
        counted[room_type_id] = counted.get(room_type_id, 0) + 1
    return {rt: units if counted[rt] == nights else 0 for rt, units in available.items()}


async def availability(conn: asyncpg.Connection, catalog: Catalog, query: CheckAvailability,
                       table: str = "inventory") -> dict[str, Any]:
    """The contract's availability answer for a query parsed against `catalog`."""
    hotel = catalog.hotel(query.hotel_id)
    assert hotel is not None  # the query was parsed against the catalog
    available = await free_units(conn, [r.room_type_id for r in hotel.room_types],
                                 query.check_in, query.nights, table)
    return {
        "hotel_id": hotel.hotel_id,
        "check_in": query.check_in.isoformat(),
        "nights": query.nights,
        "room_types": [
            {
                "room_type_id": r.room_type_id,
                "available_units": available.get(r.room_type_id, 0),
                "nightly_rate_cents": r.nightly_rate_cents,
                "total_cents": amount_cents(r.nightly_rate_cents, query.nights, 1),
            }
            for r in hotel.room_types
        ],
    }


def _rowcount(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])
