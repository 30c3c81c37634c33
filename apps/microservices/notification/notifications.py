"""The notification service's table: one notification per (booking, kind of outcome)."""

from __future__ import annotations

import asyncpg

DDL = """
CREATE TABLE IF NOT EXISTS notifications (
    booking_id text NOT NULL,
    kind text NOT NULL,
    customer_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (booking_id, kind)
);
"""


async def record(conn: asyncpg.Connection, booking_id: str, kind: str, customer_id: str) -> bool:
    """Record the notification; False if this booking was already notified of this outcome."""
    inserted = await conn.fetchval(
        "INSERT INTO notifications (booking_id, kind, customer_id) VALUES ($1, $2, $3) "
        "ON CONFLICT (booking_id, kind) DO NOTHING RETURNING true",
        booking_id, kind, customer_id,
    )
    return bool(inserted)
