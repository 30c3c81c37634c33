"""The reservation that remembers what each booking holds, around the shared holds SQL.

The holds themselves are the monolith's SQL (apps.platform.inventory); what this service adds is
the record of each booking's stay, so a redelivered request is decided once and a release knows
what to give back without asking the booking service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import asyncpg

from apps.platform.inventory import PostgresInventory


@dataclass(frozen=True, slots=True)
class Stay:
    room_type_id: str
    check_in: date
    nights: int
    units: int


async def reserve(conn: asyncpg.Connection, booking_id: str, stay: Stay) -> bool | None:
    """Hold `stay` for `booking_id`: True if held, False if refused, None if the booking was
    already reserved or refused before (it is decided once, whatever delivers it again)."""
    recorded = await conn.fetchval(
        "INSERT INTO reservations (booking_id, room_type_id, check_in, nights, units, status) "
        "VALUES ($1, $2, $3, $4, $5, 'held') ON CONFLICT (booking_id) DO NOTHING RETURNING true",
        booking_id, stay.room_type_id, stay.check_in, stay.nights, stay.units,
    )
    if not recorded:
        return None
    # An impossible stay is refused like a sold-out one, never retried: the event will not change.
    if stay.nights >= 1 and stay.units >= 1 and await PostgresInventory(conn).hold(
            stay.room_type_id, stay.check_in, stay.nights, stay.units):
        return True
    await conn.execute(
        "UPDATE reservations SET status = 'rejected', updated_at = now() WHERE booking_id = $1",
        booking_id,
    )
    return False


async def release(conn: asyncpg.Connection, booking_id: str) -> Stay | None:
    """Give back what `booking_id` holds; None if it holds nothing (never held, or released)."""
    row = await conn.fetchrow(
        "UPDATE reservations SET status = 'released', updated_at = now() "
        "WHERE booking_id = $1 AND status = 'held' "
        "RETURNING room_type_id, check_in, nights, units",
        booking_id,
    )
    if row is None:
        return None
    stay = Stay(row["room_type_id"], row["check_in"], row["nights"], row["units"])
    await PostgresInventory(conn).release(stay.room_type_id, stay.check_in, stay.nights,
                                          stay.units)
    return stay
