"""Bookings as stored rows, the same SQL wherever a booking is read (the monolith's system of
record, the query service's read model), and the idempotency keys both booking writers claim."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg

from apps.booking.lifecycle import Booking, BookingStatus, RejectionReason

# The contract's Booking fields, in its order: the columns of every table that stores one.
BOOKING_COLUMNS = (
    "booking_id, customer_id, hotel_id, room_type_id, check_in, nights, units, amount_cents, "
    "status, reason, created_at, updated_at"
)
# Their types, the same in every such table (a table adds its own constraints after them).
BOOKING_COLUMN_TYPES = """
    booking_id text PRIMARY KEY,
    customer_id text NOT NULL,
    hotel_id text NOT NULL,
    room_type_id text NOT NULL,
    check_in date NOT NULL,
    nights integer NOT NULL,
    units integer NOT NULL,
    amount_cents bigint NOT NULL,
    status text NOT NULL,
    reason text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL"""
# One statement per table that stores bookings, spelled out so the coupling audit reads them.
_BY_ID = {
    "bookings": f"SELECT {BOOKING_COLUMNS} FROM bookings WHERE booking_id = $1",
    "booking_view": f"SELECT {BOOKING_COLUMNS} FROM booking_view WHERE booking_id = $1",
}
# The contract lists a customer's bookings newest first; equal times in a fixed order.
_NEWEST_FIRST = " WHERE customer_id = $1 ORDER BY created_at DESC, booking_id DESC"
_OF_CUSTOMER = {
    "bookings": f"SELECT {BOOKING_COLUMNS} FROM bookings" + _NEWEST_FIRST,
    "booking_view": f"SELECT {BOOKING_COLUMNS} FROM booking_view" + _NEWEST_FIRST,
}


def booking_from_row(row: Mapping[str, Any]) -> Booking:
    reason = row["reason"]
    return Booking(
        booking_id=row["booking_id"], customer_id=row["customer_id"], hotel_id=row["hotel_id"],
        room_type_id=row["room_type_id"], check_in=row["check_in"], nights=row["nights"],
        units=row["units"], amount_cents=row["amount_cents"], status=BookingStatus(row["status"]),
        reason=None if reason is None else RejectionReason(reason),
        created_at=row["created_at"], updated_at=row["updated_at"],
    )


async def booking_by_id(conn: asyncpg.Connection, booking_id: str, table: str, *,
                        for_update: bool = False) -> Booking | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(_BY_ID[table] + lock, booking_id)
    return booking_from_row(row) if row else None


async def bookings_of_customer(conn: asyncpg.Connection, customer_id: str,
                               table: str) -> list[Booking]:
    return [booking_from_row(r) for r in await conn.fetch(_OF_CUSTOMER[table], customer_id)]


async def claim_idempotency_key(conn: asyncpg.Connection, key: str, fingerprint: str,
                                booking_id: str) -> tuple[str, str] | None:
    """Claim `key` for `booking_id`; if another request holds it, its (fingerprint, booking id).

    ON CONFLICT waits for a concurrent claim of the same key to commit, so two racing requests
    can never both create a booking.
    """
    claimed = await conn.fetchval(
        "INSERT INTO idempotency_keys (key, fingerprint, booking_id) VALUES ($1, $2, $3) "
        "ON CONFLICT (key) DO NOTHING RETURNING booking_id",
        key, fingerprint, booking_id,
    )
    if claimed is not None:
        return None
    row = await conn.fetchrow(
        "SELECT fingerprint, booking_id FROM idempotency_keys WHERE key = $1", key)
    return (row["fingerprint"], row["booking_id"])
