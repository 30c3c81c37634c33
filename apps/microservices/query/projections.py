"""Read models fed from the event log: their tables, their seed, and one projection per event type.

Every statement names its tables unqualified, so the same functions build the live tables (the
default schema) and a replay's fresh copy (a connection whose search_path is the replay schema).
"""

from __future__ import annotations

from collections.abc import Callable
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
"""
# How long after it occurred each event was applied here: read from the inbox claim the applying
# transaction makes anyway (processed_at is its now(), when it began; its commit follows within
# the batch), so measuring the read side costs it no statement. Created in the service's own
# schema only: a replay builds read models, not this.
READ_LAG_DDL = """
CREATE OR REPLACE VIEW read_lag AS
SELECT event_id, type, occurred_at, processed_at AS applied_at,
       (extract(epoch FROM processed_at - occurred_at) * 1000)::double precision AS lag_ms
FROM inbox;
"""

# The read models replay rebuilds and compares, with the columns that identify a row.
# read_lag (a view of the inbox) is deliberately absent: it says when this process applied an
# event, not state.
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


# Each projection is one statement; a batch runs consecutive statements of the same kind as one
# pipelined executemany, which is where the read side's throughput comes from.
Statement = tuple[str, tuple[Any, ...]]

_INSERT_BOOKING = (
    "INSERT INTO booking_view (booking_id, customer_id, hotel_id, room_type_id, check_in, "
    "nights, units, amount_cents, status, reason, created_at, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $10) ON CONFLICT DO NOTHING"
)
_SET_STATUS = ("UPDATE booking_view SET status = $2, reason = $3, updated_at = $4 "
               "WHERE booking_id = $1")
_HOLD = ("UPDATE availability_view SET held = held + $4 "
         "WHERE room_type_id = $1 AND night >= $2 AND night < $3")
_PAYMENT = (
    "INSERT INTO payment_view (booking_id, authorization_id, amount_cents, status) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT (booking_id) DO UPDATE SET "
    "authorization_id = coalesce(EXCLUDED.authorization_id, payment_view.authorization_id), "
    "amount_cents = EXCLUDED.amount_cents, status = EXCLUDED.status"
)
_NOTIFICATION = (
    "INSERT INTO notification_view (booking_id, kind, count) VALUES ($1, $2, 1) "
    "ON CONFLICT (booking_id, kind) DO UPDATE SET count = notification_view.count + 1"
)


def _booking_requested(e: BookingRequested, at: datetime) -> Statement:
    return _INSERT_BOOKING, (e.booking_id, e.customer_id, e.hotel_id, e.room_type_id, e.check_in,
                             e.nights, e.units, e.amount_cents, BookingStatus.PENDING.value, at)


def _booking_confirmed(e: BookingConfirmed, at: datetime) -> Statement:
    return _SET_STATUS, (e.booking_id, BookingStatus.CONFIRMED.value, None, at)


def _booking_rejected(e: BookingRejected, at: datetime) -> Statement:
    return _SET_STATUS, (e.booking_id, BookingStatus.REJECTED.value, e.reason.value, at)


def _booking_cancelled(e: BookingCancelled, at: datetime) -> Statement:
    return _SET_STATUS, (e.booking_id, BookingStatus.CANCELLED.value, None, at)


def _hold(room_type_id: str, check_in: date, nights: int, units: int) -> Statement:
    return _HOLD, (room_type_id, check_in, stay_end(check_in, nights), units)


def _inventory_reserved(e: InventoryReserved, at: datetime) -> Statement:
    return _hold(e.room_type_id, e.check_in, e.nights, e.units)


def _inventory_released(e: InventoryReleased, at: datetime) -> Statement:
    return _hold(e.room_type_id, e.check_in, e.nights, -e.units)


def _payment_authorized(e: PaymentAuthorized, at: datetime) -> Statement:
    return _PAYMENT, (e.booking_id, e.authorization_id, e.amount_cents, "authorized")


def _payment_declined(e: PaymentDeclined, at: datetime) -> Statement:
    return _PAYMENT, (e.booking_id, None, e.amount_cents, "declined")


def _payment_refunded(e: PaymentRefunded, at: datetime) -> Statement:
    return _PAYMENT, (e.booking_id, e.authorization_id, e.amount_cents, "refunded")


def _notification_sent(e: NotificationSent, at: datetime) -> Statement:
    return _NOTIFICATION, (e.booking_id, e.kind)


# Each projection takes the event class its type names; Any spares a cast per entry.
Projector = Callable[[Any, datetime], Statement]

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


def statement(envelope: Envelope) -> Statement | None:
    """The statement that applies `envelope` to the read models (None: it changes none)."""
    projector = PROJECTORS.get(envelope.type)
    if projector is None:
        return None
    return projector(envelope.event(), utc_millis(envelope.occurred_at))


async def apply(conn: asyncpg.Connection, envelopes: list[Envelope]) -> None:
    """Apply `envelopes`, in order, to the read models reachable through `conn`'s search_path.

    Consecutive events of the same kind (the common case in a busy stream) go to PostgreSQL as
    one pipelined executemany; the order of the statements is the order of the events.
    """
    statements = [s for s in map(statement, envelopes) if s is not None]
    start = 0
    while start < len(statements):
        sql = statements[start][0]
        end = start + 1
        while end < len(statements) and statements[end][0] == sql:
            end += 1
        if end - start == 1:
            await conn.execute(sql, *statements[start][1])
        else:
            await conn.executemany(sql, [args for _, args in statements[start:end]])
        start = end
