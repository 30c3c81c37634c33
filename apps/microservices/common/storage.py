"""Tables every producing or consuming service has: the outbox and the inbox of processed events."""

from __future__ import annotations

import asyncpg

from apps.microservices.common.envelope import Envelope, subject

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


async def append_outbox(conn: asyncpg.Connection, service: str, envelope: Envelope) -> None:
    await conn.execute(
        "INSERT INTO outbox (subject, event_id, body) VALUES ($1, $2, $3)",
        subject(service, envelope.type), envelope.event_id, envelope.to_bytes(),
    )


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


async def seen(conn: asyncpg.Connection | asyncpg.Pool, consumer: str, event_id: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT true FROM inbox WHERE consumer = $1 AND event_id = $2", consumer, event_id
    ))
