"""The contract's booking reads, from the booking read model with the SQL the monolith runs too.

Hotels and availability are read with shared SQL as well (apps.platform.catalog, .inventory).
"""

from __future__ import annotations

import asyncpg

from apps.booking.lifecycle import Booking
from apps.contract.errors import NotFound
from apps.platform.bookings import booking_by_id, bookings_of_customer


async def booking(conn: asyncpg.Connection, booking_id: str) -> Booking:
    found = await booking_by_id(conn, booking_id, "booking_view")
    if found is None:
        raise NotFound(f"booking {booking_id} not found")
    return found


async def customer_bookings(conn: asyncpg.Connection, customer_id: str) -> list[Booking]:
    return await bookings_of_customer(conn, customer_id, "booking_view")
