"""The payment service's table: one payment per booking, its authorization and its refund."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from apps.payment_provider.client import Authorization

DDL = """
CREATE TABLE IF NOT EXISTS payments (
    booking_id text PRIMARY KEY,
    authorization_id text NOT NULL,
    amount_cents bigint NOT NULL,
    status text NOT NULL CHECK (status IN ('authorized', 'declined')),
    refund_id text,
    refunded_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (refund_id IS NULL OR status = 'authorized')
);
"""


@dataclass(frozen=True, slots=True)
class RefundOwed:
    authorization_id: str
    amount_cents: int


async def record_authorization(conn: asyncpg.Connection, booking_id: str,
                               auth: Authorization) -> bool:
    """Record the provider's answer; False if this booking's payment was recorded before."""
    inserted = await conn.fetchval(
        "INSERT INTO payments (booking_id, authorization_id, amount_cents, status) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (booking_id) DO NOTHING RETURNING true",
        booking_id, auth.authorization_id, auth.amount_cents,
        "authorized" if auth.approved else "declined",
    )
    return bool(inserted)


async def refund_owed(conn: asyncpg.Connection | asyncpg.Pool, booking_id: str) -> RefundOwed | None:
    """The authorization to refund for `booking_id`; None if it was never authorized or is refunded."""
    row = await conn.fetchrow(
        "SELECT authorization_id, amount_cents FROM payments "
        "WHERE booking_id = $1 AND status = 'authorized' AND refund_id IS NULL",
        booking_id,
    )
    return None if row is None else RefundOwed(row["authorization_id"], row["amount_cents"])


async def record_refund(conn: asyncpg.Connection, booking_id: str, refund_id: str) -> bool:
    """Record the refund; False if one was recorded before."""
    status = await conn.execute(
        "UPDATE payments SET refund_id = $2, refunded_at = now() "
        "WHERE booking_id = $1 AND status = 'authorized' AND refund_id IS NULL",
        booking_id, refund_id,
    )
    return status == "UPDATE 1"
