"""Payment context of the monolith: the payment owed for each booking and its refunds."""

from __future__ import annotations

import asyncpg


async def record_intent(conn: asyncpg.Connection, booking_id: str, card_token: str,
                        amount_cents: int) -> None:
    await conn.execute(
        "INSERT INTO payments (booking_id, card_token, amount_cents, status) "
        "VALUES ($1, $2, $3, 'pending')",
        booking_id, card_token, amount_cents,
    )


async def card_token(conn: asyncpg.Connection, booking_id: str) -> str:
    return await conn.fetchval("SELECT card_token FROM payments WHERE booking_id = $1", booking_id)


async def mark_authorized(conn: asyncpg.Connection, booking_id: str, authorization_id: str) -> None:
    await conn.execute(
        "UPDATE payments SET status = 'authorized', authorization_id = $2, updated_at = now() "
        "WHERE booking_id = $1",
        booking_id, authorization_id,
    )


async def mark_declined(conn: asyncpg.Connection, booking_id: str, authorization_id: str) -> None:
    await conn.execute(
        "UPDATE payments SET status = 'declined', authorization_id = $2, updated_at = now() "
        "WHERE booking_id = $1",
        booking_id, authorization_id,
    )


async def owe_refund(conn: asyncpg.Connection, booking_id: str) -> None:
    await conn.execute(
        "UPDATE payments SET refund_status = 'pending', updated_at = now() WHERE booking_id = $1",
        booking_id,
    )


async def mark_refunded(conn: asyncpg.Connection, booking_id: str, refund_id: str) -> None:
    await conn.execute(
        "UPDATE payments SET refund_status = 'refunded', refund_id = $2, updated_at = now() "
        "WHERE booking_id = $1",
        booking_id, refund_id,
    )


async def refunds_owed(conn: asyncpg.Connection, limit: int = 100) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT booking_id, authorization_id, amount_cents FROM payments "
        "WHERE refund_status = 'pending' ORDER BY updated_at LIMIT $1",
        limit,
    )
