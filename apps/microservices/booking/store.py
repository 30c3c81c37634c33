"""The booking event store (append-only, optimistic concurrency) and the command log."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

from apps.booking.lifecycle import Booking
from apps.microservices.booking.aggregate import StoredEvent, fold
from apps.microservices.common.envelope import Envelope

DDL = """
CREATE TABLE IF NOT EXISTS booking_events (
    aggregate_id text NOT NULL,
    sequence integer NOT NULL,
    event_id text NOT NULL UNIQUE,
    type text NOT NULL,
    payload jsonb NOT NULL,
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (aggregate_id, sequence)
);
CREATE TABLE IF NOT EXISTS commands (
    command_id bigserial PRIMARY KEY,
    type text NOT NULL,
    idempotency_key text,
    payload jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    outcome text,
    booking_id text
);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key text PRIMARY KEY,
    fingerprint text NOT NULL,
    booking_id text NOT NULL
);
"""


class ConcurrentChange(Exception):
    """Another writer appended to the aggregate first; reload and decide again."""


async def load(conn: asyncpg.Connection, booking_id: str) -> tuple[Booking | None, int]:
    """The aggregate folded from its events, and its version (the last sequence, 0 if none)."""
    rows = await conn.fetch(
        "SELECT aggregate_id, sequence, event_id, type, payload::text AS payload, occurred_at "
        "FROM booking_events WHERE aggregate_id = $1 ORDER BY sequence",
        booking_id,
    )
    events = [_stored(r) for r in rows]
    return fold(events), (events[-1].sequence if events else 0)


async def append(conn: asyncpg.Connection, envelope: Envelope) -> None:
    """Append one event at `envelope.sequence`; a taken sequence means a concurrent writer.

    No savepoint (two round trips): ConcurrentChange leaves the caller's transaction aborted,
    and every caller rolls it back whole and decides again from a fresh load."""
    try:
        await conn.execute(
            "INSERT INTO booking_events (aggregate_id, sequence, event_id, type, payload, "
            "occurred_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6)",
            envelope.aggregate_id, envelope.sequence, envelope.event_id, envelope.type,
            orjson.dumps(envelope.payload).decode(), envelope.occurred_at,
        )
    except asyncpg.UniqueViolationError as exc:
        raise ConcurrentChange(envelope.aggregate_id) from exc


async def all_events(conn: asyncpg.Connection) -> list[StoredEvent]:
    rows = await conn.fetch(
        "SELECT aggregate_id, sequence, event_id, type, payload::text AS payload, occurred_at "
        "FROM booking_events ORDER BY aggregate_id, sequence"
    )
    return [_stored(r) for r in rows]


async def record_command(conn: asyncpg.Connection | asyncpg.Pool, kind: str,
                         payload: dict[str, Any], idempotency_key: str | None, outcome: str,
                         booking_id: str | None) -> None:
    """Command sourcing: every command is written down with its outcome; an accepted one in the
    transaction that stores its events, so the two are never seen apart."""
    await conn.execute(
        "INSERT INTO commands (type, idempotency_key, payload, outcome, booking_id) "
        "VALUES ($1, $2, $3::jsonb, $4, $5)",
        kind, idempotency_key, orjson.dumps(payload).decode(), outcome, booking_id,
    )


def _stored(row: asyncpg.Record) -> StoredEvent:
    return StoredEvent(row["aggregate_id"], row["sequence"], row["event_id"], row["type"],
                       orjson.loads(row["payload"]), row["occurred_at"])
