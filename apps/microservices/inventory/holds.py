"""Holds per (room type, night) and the reservation that remembers what each booking holds.

The same SQL technique as the monolith's inventory: one conditional UPDATE per stay, undone by a
savepoint when any night is short, so a stay is held on every night or on none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg


@dataclass(frozen=True, slots=True)
class Stay:
    room_type_id: str
    check_in: date
    nights: int
    units: int


class _NotEnoughRooms(Exception):
    pass


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
    # An unknown room type or a night outside the horizon has no inventory row: refused too.
    if stay.nights >= 1 and stay.units >= 1 and await _hold(conn, stay):
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
    status = await conn.execute(
        "UPDATE inventory SET held = held - $4 "
        "WHERE room_type_id = $1 AND night >= $2 AND night < $3",
        stay.room_type_id, stay.check_in, stay.check_in + timedelta(days=stay.nights), stay.units,
    )
    if _rowcount(status) != stay.nights:
        raise RuntimeError(f"released {status} for the {stay.nights}-night stay of {booking_id}")
    return stay


async def _hold(conn: asyncpg.Connection, stay: Stay) -> bool:
    try:
        async with conn.transaction():
            status = await conn.execute(
                "UPDATE inventory SET held = held + $4 "
                "WHERE room_type_id = $1 AND night >= $2 AND night < $3 "
                "AND held + $4 <= capacity",
                stay.room_type_id, stay.check_in, stay.check_in + timedelta(days=stay.nights),
                stay.units,
            )
            if _rowcount(status) != stay.nights:
                raise _NotEnoughRooms
    except _NotEnoughRooms:
        return False
    return True


def _rowcount(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])
