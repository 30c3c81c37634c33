"""Notification context of the monolith: one notification per booking outcome."""

from __future__ import annotations

import asyncpg

from apps.booking.lifecycle import Booking


async def notify(conn: asyncpg.Connection, booking: Booking) -> None:
    await conn.execute(
        "INSERT INTO notifications (booking_id, kind) VALUES ($1, $2)",
        booking.booking_id, f"booking_{booking.status.value}",
    )
