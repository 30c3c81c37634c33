"""Booking context of the monolith: storing bookings; reads and idempotency keys run the shared SQL
(apps.platform.bookings) with the query service."""

from __future__ import annotations

import asyncpg

from apps.booking.lifecycle import Booking
from apps.platform.bookings import BOOKING_COLUMNS as _COLUMNS
from apps.platform.bookings import booking_by_id, bookings_of_customer
from apps.platform.bookings import booking_from_row as _from_row


async def insert(conn: asyncpg.Connection, b: Booking) -> None:
    await conn.execute(
        f"INSERT INTO bookings ({_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
        b.booking_id, b.customer_id, b.hotel_id, b.room_type_id, b.check_in, b.nights, b.units,
        b.amount_cents, b.status.value, b.reason.value if b.reason else None, b.created_at,
        b.updated_at,
    )


async def get(conn: asyncpg.Connection, booking_id: str, *, for_update: bool = False) -> Booking | None:
    return await booking_by_id(conn, booking_id, "bookings", for_update=for_update)


async def transition(conn: asyncpg.Connection, before: Booking, after: Booking) -> bool:
    """Persist `after` only if the stored booking is still in `before`'s status.

    The request path and the recovery loop may race to finish the same pending booking; the
    conditional update lets exactly one of them apply the outcome and its side effects.
    """
    status = await conn.execute(
        "UPDATE bookings SET status = $2, reason = $3, updated_at = $4 "
        "WHERE booking_id = $1 AND status = $5",
        after.booking_id, after.status.value, after.reason.value if after.reason else None,
        after.updated_at, before.status.value,
    )
    return status.endswith(" 1")


async def for_customer(conn: asyncpg.Connection, customer_id: str) -> list[Booking]:
    return await bookings_of_customer(conn, customer_id, "bookings")


async def pending(conn: asyncpg.Connection, older_than_s: float, limit: int = 100) -> list[Booking]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM bookings WHERE status = 'pending' "
        "AND created_at < now() - make_interval(secs => $1) ORDER BY created_at LIMIT $2",
        older_than_s, limit,
    )
    return [_from_row(r) for r in rows]
