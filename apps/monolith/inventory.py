"""Inventory context of the monolith: holds per (room type, night), never above capacity."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg


class _NotEnoughRooms(Exception):
    pass


async def hold(
    conn: asyncpg.Connection, room_type_id: str, check_in: date, nights: int, units: int
) -> bool:
    """Hold `units` rooms on every night of the stay, or none at all.

    One conditional UPDATE takes the row locks in index order (so concurrent stays cannot
    deadlock each other in the common case) and refuses any night that would exceed capacity;
    a savepoint undoes the nights already taken when one night is short.
    """
    try:
        async with conn.transaction():
            status = await conn.execute(
                "UPDATE inventory SET held = held + $4 "
                "WHERE room_type_id = $1 AND night >= $2 AND night < $3 "
                "AND held + $4 <= capacity",
                room_type_id, check_in, check_in + timedelta(days=nights), units,
            )
            if _rowcount(status) != nights:
                raise _NotEnoughRooms
    except _NotEnoughRooms:
        return False
    return True


async def release(
    conn: asyncpg.Connection, room_type_id: str, check_in: date, nights: int, units: int
) -> None:
    status = await conn.execute(
        "UPDATE inventory SET held = held - $4 "
        "WHERE room_type_id = $1 AND night >= $2 AND night < $3",
        room_type_id, check_in, check_in + timedelta(days=nights), units,
    )
    if _rowcount(status) != nights:
        raise RuntimeError(f"released {status} for a {nights}-night stay of {room_type_id}")


def _rowcount(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])
