"""Inventory context of the monolith: a booking's rooms held and released with the shared SQL."""

from __future__ import annotations

import asyncpg

from apps.booking.lifecycle import Booking
from apps.platform.inventory import PostgresInventory


async def hold(conn: asyncpg.Connection, booking: Booking) -> bool:
    """Hold the booking's rooms on every night of its stay, or none at all."""
    return await PostgresInventory(conn).hold(booking.room_type_id, booking.check_in,
                                              booking.nights, booking.units)


async def release(conn: asyncpg.Connection, booking: Booking) -> None:
    await PostgresInventory(conn).release(booking.room_type_id, booking.check_in,
                                          booking.nights, booking.units)
