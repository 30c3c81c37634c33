"""The monolith's one database: catalog, inventory, bookings, payments, notifications."""

from __future__ import annotations

import asyncpg

DDL = """
CREATE TABLE IF NOT EXISTS dataset (
    id integer PRIMARY KEY CHECK (id = 1),
    spec jsonb NOT NULL,
    start_date date NOT NULL,
    horizon_days integer NOT NULL
);
CREATE TABLE IF NOT EXISTS hotels (
    hotel_id text PRIMARY KEY,
    name text NOT NULL,
    city text NOT NULL
);
CREATE INDEX IF NOT EXISTS hotels_city ON hotels (lower(city), hotel_id);
CREATE TABLE IF NOT EXISTS room_types (
    room_type_id text PRIMARY KEY,
    hotel_id text NOT NULL REFERENCES hotels,
    name text NOT NULL,
    units integer NOT NULL CHECK (units > 0),
    nightly_rate_cents integer NOT NULL CHECK (nightly_rate_cents > 0)
);
CREATE INDEX IF NOT EXISTS room_types_hotel ON room_types (hotel_id, room_type_id);
CREATE TABLE IF NOT EXISTS inventory (
    room_type_id text NOT NULL REFERENCES room_types,
    night date NOT NULL,
    capacity integer NOT NULL,
    held integer NOT NULL DEFAULT 0 CHECK (held >= 0 AND held <= capacity),
    PRIMARY KEY (room_type_id, night)
);
CREATE TABLE IF NOT EXISTS bookings (
    booking_id text PRIMARY KEY,
    customer_id text NOT NULL,
    hotel_id text NOT NULL,
    room_type_id text NOT NULL REFERENCES room_types,
    check_in date NOT NULL,
    nights integer NOT NULL,
    units integer NOT NULL,
    amount_cents bigint NOT NULL,
    status text NOT NULL,
    reason text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS bookings_customer ON bookings (customer_id, created_at DESC);
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
