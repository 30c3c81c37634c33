"""Tables every producing or consuming service has: the outbox and the inbox of processed events."""

from __future__ import annotations

import asyncpg

from apps.microservices.common.envelope import Envelope, subject
from apps.microservices.common.relay import Outgoing

DDL = """
CREATE TABLE IF NOT EXISTS outbox (
    position bigserial PRIMARY KEY,
    subject text NOT NULL,
    event_id text NOT NULL,
    body bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS inbox (
    consumer text NOT NULL,
    event_id text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
"""


async def append_outbox(conn: asyncpg.Connection, service: str, envelope: Envelope) -> Outgoing:
    """Write `envelope` to the outbox; the row, for the relay once the transaction commits."""
    topic, body = subject(service, envelope.type), envelope.to_bytes()
    position = await conn.fetchval(
        "INSERT INTO outbox (subject, event_id, body) VALUES ($1, $2, $3) RETURNING position",
        topic, envelope.event_id, body,
    )
    return Outgoing(position, topic, envelope.event_id, body)


async def claim(conn: asyncpg.Connection, consumer: str, event_id: str) -> bool:
    """Record `event_id` as processed by `consumer`; False if it already was (a redelivery)."""
    inserted = await conn.fetchval(
        "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) "
        "ON CONFLICT DO NOTHING RETURNING true",
        consumer, event_id,
    )
    return bool(inserted)


async def claim_many(conn: asyncpg.Connection, consumer: str, event_ids: list[str]) -> list[str]:
    """Record each of `event_ids` as processed by `consumer` in one statement; returns the ids
    that were not already (the rest are redeliveries)."""
    rows = await conn.fetch(
        "INSERT INTO inbox (consumer, event_id) SELECT $1, unnest($2::text[]) "
        "ON CONFLICT DO NOTHING RETURNING event_id",
        consumer, event_ids,
    )
    return [r["event_id"] for r in rows]
