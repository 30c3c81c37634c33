"""The contract's reads, answered with plain SQL from the read models and the reference tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import asyncpg
import orjson

from apps.booking.catalog import Catalog
from apps.booking.errors import NotFound
from apps.booking.lifecycle import Booking, BookingStatus, RejectionReason
from apps.booking.pricing import amount_cents
from apps.booking.validation import CheckAvailability, ListHotels
from apps.microservices.query.projections import stay_end

_BOOKING_COLUMNS = (
    "booking_id, customer_id, hotel_id, room_type_id, check_in, nights, units, amount_cents, "
    "status, reason, created_at, updated_at"
)


def booking_from_row(row: Mapping[str, Any]) -> Booking:
    reason = row["reason"]
    return Booking(
        booking_id=row["booking_id"], customer_id=row["customer_id"], hotel_id=row["hotel_id"],
        room_type_id=row["room_type_id"], check_in=row["check_in"], nights=row["nights"],
        units=row["units"], amount_cents=row["amount_cents"], status=BookingStatus(row["status"]),
        reason=None if reason is None else RejectionReason(reason),
        created_at=row["created_at"], updated_at=row["updated_at"],
    )


def min_available(rows: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Per room type, the fewest units free on any night of the stay."""
    available: dict[str, int] = {}
    for room_type_id, units in rows:
        available[room_type_id] = min(units, available.get(room_type_id, units))
    return available


async def list_hotels(conn: asyncpg.Connection, query: ListHotels) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """
        SELECT h.hotel_id, h.name, h.city,
               json_agg(json_build_object(
                   'room_type_id', r.room_type_id, 'name', r.name, 'units', r.units,
                   'nightly_rate_cents', r.nightly_rate_cents) ORDER BY r.room_type_id)::text
                   AS room_types
        FROM ref_hotels h JOIN ref_room_types r USING (hotel_id)
        WHERE $1::text IS NULL OR lower(h.city) = lower($1)
        GROUP BY h.hotel_id ORDER BY h.hotel_id LIMIT $2 OFFSET $3
        """,
        query.city, query.limit, query.offset,
    )
    return [
        {"hotel_id": r["hotel_id"], "name": r["name"], "city": r["city"],
         "room_types": orjson.loads(r["room_types"])}
        for r in rows
    ]


async def availability(conn: asyncpg.Connection, catalog: Catalog,
                       query: CheckAvailability) -> dict[str, Any]:
    hotel = catalog.hotel(query.hotel_id)
    assert hotel is not None  # the query was parsed against the catalog
    rows = await conn.fetch(
        "SELECT room_type_id, capacity - held AS available FROM availability_view "
        "WHERE room_type_id = ANY($1::text[]) AND night >= $2 AND night < $3",
        [r.room_type_id for r in hotel.room_types], query.check_in,
        stay_end(query.check_in, query.nights),
    )
    available = min_available((r["room_type_id"], r["available"]) for r in rows)
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


async def booking(conn: asyncpg.Connection, booking_id: str) -> Booking:
    row = await conn.fetchrow(
        f"SELECT {_BOOKING_COLUMNS} FROM booking_view WHERE booking_id = $1", booking_id
    )
    if row is None:
        raise NotFound(f"booking {booking_id} not found")
    return booking_from_row(row)


async def customer_bookings(conn: asyncpg.Connection, customer_id: str) -> list[Booking]:
    rows = await conn.fetch(
        f"SELECT {_BOOKING_COLUMNS} FROM booking_view WHERE customer_id = $1 "
        "ORDER BY created_at DESC, booking_id DESC",
        customer_id,
    )
    return [booking_from_row(r) for r in rows]
