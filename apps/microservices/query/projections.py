"""Read models fed from the event log: their tables, their seed, and one projection per event type.

Every statement names its tables unqualified, so the same functions build the live tables (the
default schema) and a replay's fresh copy (a connection whose search_path is the replay schema).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

import asyncpg

from apps.booking.catalog import Catalog
from apps.booking.events import (
    BookingCancelled,
    BookingConfirmed,
    BookingRejected,
    BookingRequested,
    InventoryReleased,
    InventoryReserved,
    NotificationSent,
    PaymentAuthorized,
    PaymentDeclined,
    PaymentRefunded,
)
from apps.booking.lifecycle import BookingStatus, utc_millis
from apps.booking.pricing import stay_end
from apps.microservices.common.envelope import Envelope
from apps.platform.bookings import BOOKING_COLUMN_TYPES

DDL = "CREATE TABLE IF NOT EXISTS booking_view (" + BOOKING_COLUMN_TYPES + """);
CREATE INDEX IF NOT EXISTS booking_view_customer
    ON booking_view (customer_id, created_at DESC, booking_id DESC);
CREATE TABLE IF NOT EXISTS availability_view (
    room_type_id text NOT NULL,
    night date NOT NULL,
    capacity integer NOT NULL,
    held integer NOT NULL DEFAULT 0,
    PRIMARY KEY (room_type_id, night)
);
CREATE TABLE IF NOT EXISTS payment_view (
    booking_id text PRIMARY KEY,
    authorization_id text,
    amount_cents bigint NOT NULL,
    status text NOT NULL
);
CREATE TABLE IF NOT EXISTS notification_view (
    booking_id text NOT NULL,
    kind text NOT NULL,
    count integer NOT NULL,
    PRIMARY KEY (booking_id, kind)
);
CREATE TABLE IF NOT EXISTS read_lag (
    event_id text PRIMARY KEY,
    type text NOT NULL,
    occurred_at timestamptz NOT NULL,
    applied_at timestamptz NOT NULL,
    lag_ms double precision NOT NULL
);
"""

# The read models replay rebuilds and compares, with the columns that identify a row.
# read_lag is deliberately absent: it records when this process applied an event, not state.
READ_MODELS: dict[str, tuple[str, ...]] = {
    "booking_view": ("booking_id",),
    "availability_view": ("room_type_id", "night"),
    "payment_view": ("booking_id",),
    "notification_view": ("booking_id", "kind"),
}


async def seed_availability(conn: asyncpg.Connection, catalog: Catalog) -> None:
    """One row per (room type, night) of the horizon, nothing held; rows already there are kept."""
    nights = catalog.horizon.nights()
    room_types = catalog.room_types()
    await conn.execute(
        "INSERT INTO availability_view (room_type_id, night, capacity, held) "
        "SELECT r, n, c, 0 FROM unnest($1::text[], $2::date[], $3::int[]) AS s(r, n, c) "
        "ON CONFLICT DO NOTHING",
        [r.room_type_id for r in room_types for _ in nights],
        [n for _ in room_types for n in nights],
        [r.units for r in room_types for _ in nights],
    )


async def _booking_requested(conn: asyncpg.Connection, e: BookingRequested, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO booking_view (booking_id, customer_id, hotel_id, room_type_id, check_in, "
        "nights, units, amount_cents, status, reason, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $10) ON CONFLICT DO NOTHING",
        e.booking_id, e.customer_id, e.hotel_id, e.room_type_id, e.check_in, e.nights, e.units,
        e.amount_cents, BookingStatus.PENDING.value, at,
    )


async def _set_status(conn: asyncpg.Connection, booking_id: str, status: BookingStatus,
                      reason: str | None, at: datetime) -> None:
    await conn.execute(
        "UPDATE booking_view SET status = $2, reason = $3, updated_at = $4 WHERE booking_id = $1",
        booking_id, status.value, reason, at,
    )


async def _booking_confirmed(conn: asyncpg.Connection, e: BookingConfirmed, at: datetime) -> None:
    await _set_status(conn, e.booking_id, BookingStatus.CONFIRMED, None, at)


async def _booking_rejected(conn: asyncpg.Connection, e: BookingRejected, at: datetime) -> None:
    await _set_status(conn, e.booking_id, BookingStatus.REJECTED, e.reason.value, at)


async def _booking_cancelled(conn: asyncpg.Connection, e: BookingCancelled, at: datetime) -> None:
    await _set_status(conn, e.booking_id, BookingStatus.CANCELLED, None, at)


async def _hold(conn: asyncpg.Connection, room_type_id: str, check_in: date, nights: int,
                units: int) -> None:
    await conn.execute(
        "UPDATE availability_view SET held = held + $4 "
        "WHERE room_type_id = $1 AND night >= $2 AND night < $3",
        room_type_id, check_in, stay_end(check_in, nights), units,
    )


async def _inventory_reserved(conn: asyncpg.Connection, e: InventoryReserved, at: datetime) -> None:
    await _hold(conn, e.room_type_id, e.check_in, e.nights, e.units)


async def _inventory_released(conn: asyncpg.Connection, e: InventoryReleased, at: datetime) -> None:
    await _hold(conn, e.room_type_id, e.check_in, e.nights, -e.units)


async def _payment_authorized(conn: asyncpg.Connection, e: PaymentAuthorized, at: datetime) -> None:
    await _payment(conn, e.booking_id, e.authorization_id, e.amount_cents, "authorized")


async def _payment_declined(conn: asyncpg.Connection, e: PaymentDeclined, at: datetime) -> None:
    await _payment(conn, e.booking_id, None, e.amount_cents, "declined")


async def _payment_refunded(conn: asyncpg.Connection, e: PaymentRefunded, at: datetime) -> None:
    await _payment(conn, e.booking_id, e.authorization_id, e.amount_cents, "refunded")


async def _payment(conn: asyncpg.Connection, booking_id: str, authorization_id: str | None,
                   amount: int, status: str) -> None:
    await conn.execute(
        "INSERT INTO payment_view (booking_id, authorization_id, amount_cents, status) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (booking_id) DO UPDATE SET "
        "authorization_id = coalesce(EXCLUDED.authorization_id, payment_view.authorization_id), "
        "amount_cents = EXCLUDED.amount_cents, status = EXCLUDED.status",
        booking_id, authorization_id, amount, status,
    )


async def _notification_sent(conn: asyncpg.Connection, e: NotificationSent, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO notification_view (booking_id, kind, count) VALUES ($1, $2, 1) "
        "ON CONFLICT (booking_id, kind) DO UPDATE SET count = notification_view.count + 1",
        e.booking_id, e.kind,
    )


# Each projection takes the event class its type names; Any spares a cast per entry.
Projector = Callable[[asyncpg.Connection, Any, datetime], Awaitable[None]]

# Event type -> projection; the producer of each type feeds exactly one read model, so applying
# each stream in its own order gives the same state whatever the interleaving between streams.
PROJECTORS: dict[str, Projector] = {
    "BookingRequested": _booking_requested,
    "BookingConfirmed": _booking_confirmed,
    "BookingRejected": _booking_rejected,
    "BookingCancelled": _booking_cancelled,
    "InventoryReserved": _inventory_reserved,
    "InventoryReleased": _inventory_released,
    "PaymentAuthorized": _payment_authorized,
    "PaymentDeclined": _payment_declined,
    "PaymentRefunded": _payment_refunded,
    "NotificationSent": _notification_sent,
}

# What query subscribes to, per producing service. InventoryRejected changes no read model
# (nothing was held), but it is consumed so its read lag is measured like every other event's.
CONSUMED: dict[str, tuple[str, ...]] = {
    "booking": ("BookingRequested", "BookingConfirmed", "BookingRejected", "BookingCancelled"),
    "inventory": ("InventoryReserved", "InventoryRejected", "InventoryReleased"),
    "payment": ("PaymentAuthorized", "PaymentDeclined", "PaymentRefunded"),
    "notification": ("NotificationSent",),
}


async def apply(conn: asyncpg.Connection, envelope: Envelope) -> None:
    """Apply one event to the read models reachable through `conn`'s search_path."""
    projector = PROJECTORS.get(envelope.type)
    if projector is not None:
        await projector(conn, envelope.event(), utc_millis(envelope.occurred_at))


async def record_lag(conn: asyncpg.Connection, envelope: Envelope) -> None:
    """How long after it occurred the event became visible (now() is this transaction's time)."""
    await conn.execute(
        "INSERT INTO read_lag (event_id, type, occurred_at, applied_at, lag_ms) "
        "VALUES ($1, $2, $3, now(), extract(epoch FROM now() - $3::timestamptz) * 1000) "
        "ON CONFLICT DO NOTHING",
        envelope.event_id, envelope.type, utc_millis(envelope.occurred_at),
    )
