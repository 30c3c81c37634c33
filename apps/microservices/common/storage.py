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
    type text NOT NULL,
    occurred_at timestamptz NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
"""
# An inbox row says which event a consumer applied, what it was, when it occurred and when it was
# processed (now(): when the applying transaction began), so how far a consumer trails its
# producer is read from the claim itself, with no statement of its own (the query's read_lag is
# a view of it).


async def append_outbox(conn: asyncpg.Connection, service: str, envelope: Envelope) -> Outgoing:
    """Write `envelope` to the outbox; the row, for the relay once the transaction commits."""
    topic, body = subject(service, envelope.type), envelope.to_bytes()
    position = await conn.fetchval(
        "INSERT INTO outbox (subject, event_id, body) VALUES ($1, $2, $3) RETURNING position",
        topic, envelope.event_id, body,
    )
    return Outgoing(position, topic, envelope.event_id, body)


async def claim(conn: asyncpg.Connection, consumer: str, envelope: Envelope) -> bool:
    """Record `envelope` as processed by `consumer`; False if it already was (a redelivery)."""
    inserted = await conn.fetchval(
        "INSERT INTO inbox (consumer, event_id, type, occurred_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT DO NOTHING RETURNING true",
        consumer, envelope.event_id, envelope.type, envelope.occurred_at,
    )
    return bool(inserted)


async def claim_many(conn: asyncpg.Connection, consumer: str,
                     envelopes: list[Envelope]) -> list[str]:
    """Record each of `envelopes` as processed by `consumer` in one statement; returns the event
    ids that were not already (the rest are redeliveries)."""
    rows = await conn.fetch(
        "INSERT INTO inbox (consumer, event_id, type, occurred_at) "
        "SELECT $1, e, t, o FROM unnest($2::text[], $3::text[], $4::timestamptz[]) AS s(e, t, o) "
        "ON CONFLICT DO NOTHING RETURNING event_id",
        consumer, [e.event_id for e in envelopes], [e.type for e in envelopes],
        [e.occurred_at for e in envelopes],
    )
    return [r["event_id"] for r in rows]
