"""The contract's booking reads, answered with plain SQL from the booking read model.

Hotels and availability are read with the SQL the monolith runs too (apps.platform).
"""

from __future__ import annotations

import asyncpg

from apps.booking.lifecycle import Booking
from apps.contract.errors import NotFound
from apps.platform.bookings import BOOKING_COLUMNS, booking_from_row


async def booking(conn: asyncpg.Connection, booking_id: str) -> Booking:
    row = await conn.fetchrow(
        f"SELECT {BOOKING_COLUMNS} FROM booking_view WHERE booking_id = $1", booking_id
    )
    if row is None:
        raise NotFound(f"booking {booking_id} not found")
    return booking_from_row(row)


async def customer_bookings(conn: asyncpg.Connection, customer_id: str) -> list[Booking]:
    rows = await conn.fetch(
        f"SELECT {BOOKING_COLUMNS} FROM booking_view WHERE customer_id = $1 "
        "ORDER BY created_at DESC, booking_id DESC",
        customer_id,
    )
    return [booking_from_row(r) for r in rows]
