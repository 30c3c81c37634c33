"""The monolith's one database: catalog, inventory, bookings, payments, notifications."""

from __future__ import annotations

import asyncpg

from apps.platform import catalog, inventory
from apps.platform.bookings import BOOKING_COLUMN_TYPES

# The catalog and the holds come first: bookings reference the room types.
DDL = catalog.DDL + inventory.DDL + "CREATE TABLE IF NOT EXISTS bookings (" + BOOKING_COLUMN_TYPES + """,
    FOREIGN KEY (room_type_id) REFERENCES room_types
);
CREATE INDEX IF NOT EXISTS bookings_customer ON bookings (customer_id, created_at DESC, booking_id DESC);
CREATE INDEX IF NOT EXISTS bookings_pending ON bookings (created_at) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key text PRIMARY KEY,
    fingerprint text NOT NULL,
    booking_id text NOT NULL REFERENCES bookings DEFERRABLE INITIALLY DEFERRED,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS payments (
    booking_id text PRIMARY KEY REFERENCES bookings,
    card_token text NOT NULL,
    amount_cents bigint NOT NULL,
    status text NOT NULL,
    authorization_id text,
    refund_status text,
    refund_id text,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS payments_refund_pending ON payments (booking_id)
    WHERE refund_status = 'pending';
CREATE TABLE IF NOT EXISTS notifications (
    notification_id bigserial PRIMARY KEY,
    booking_id text NOT NULL REFERENCES bookings,
    kind text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""


async def migrate(conn: asyncpg.Connection) -> None:
    await conn.execute(DDL)
