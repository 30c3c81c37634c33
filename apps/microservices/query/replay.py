"""Invariant 5: rebuild every read model from the event log into fresh tables, compare with live.

The rebuild goes into a new schema of the same database, with the same DDL, the same seed and
the same projection functions as the live consumers; each producer's stream is read from
sequence 1 to its last sequence at the start by an ephemeral ordered consumer. The replay
schema is dropped at the end, whatever happens.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from nats.js.errors import NotFoundError

from apps.microservices.common import bus
from apps.microservices.common.envelope import Envelope, stream_name
from apps.microservices.query import projections
from apps.platform.catalog import load_catalog

MAX_DETAILS = 10
IDLE_TIMEOUT_S = 10.0

Row = tuple[Any, ...]


def diff_rows(table: str, key_columns: Sequence[str], live: Iterable[Mapping[str, Any]],
              rebuilt: Iterable[Mapping[str, Any]]) -> tuple[int, list[str]]:
    """Keys whose row is missing on one side or differs: (number of keys compared, differing)."""

    def by_key(rows: Iterable[Mapping[str, Any]]) -> dict[Row, Row]:
        return {tuple(r[k] for k in key_columns): tuple(r.values()) for r in rows}

    left, right = by_key(live), by_key(rebuilt)
    keys = left.keys() | right.keys()
    differing = sorted((k for k in keys if left.get(k) != right.get(k)), key=repr)
    return len(keys), [f"{table}{_show(k)}" for k in differing]


def _show(key: Row) -> str:
    return "(" + ", ".join(str(part) for part in key) + ")"


async def replay(dsn: str, nats_url: str) -> dict[str, Any]:
    schema = f"replay_{datetime.now(UTC):%Y%m%d%H%M%S}_{uuid.uuid4().hex[:6]}"
    conn = await asyncpg.connect(dsn)
    nc, js = await bus.connect(nats_url, f"query-replay-{schema}")
    try:
        catalog = await load_catalog(conn)
        live = await conn.fetchval("SELECT current_schema()")
        await conn.execute(f"CREATE SCHEMA {schema}")
        # This connection is ours alone, so its search_path may point at the replay schema: the
        # unqualified names of the DDL and the projections then resolve to the fresh tables.
        await conn.execute(f"SET search_path TO {schema}")
        await conn.execute(projections.DDL)
        await projections.seed_availability(conn, catalog)
        replayed = 0
        for producer, types in projections.CONSUMED.items():
            replayed += await _replay_stream(conn, js, producer, frozenset(types))
        rows_compared, details = await _compare(conn, live, schema)
        return {"events_replayed": replayed, "rows_compared": rows_compared,
                "differences": len(details), "details": details[:MAX_DETAILS]}
    finally:
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        finally:
            await conn.close()
            await nc.close()


async def _replay_stream(conn: asyncpg.Connection, js: JetStreamContext, producer: str,
                         types: frozenset[str]) -> int:
    try:
        info = await js.stream_info(stream_name(producer))
    except NotFoundError:
        return 0  # the producer never published: nothing to replay
    last = info.state.last_seq
    if info.state.messages == 0:
        return 0
    sub = await js.subscribe(f"{producer}.events.>", stream=stream_name(producer),
                             ordered_consumer=True, deliver_policy=DeliverPolicy.ALL)
    applied = 0
    # Live consumers skip a redelivered event through their inbox; replay skips it the same way.
    seen: set[str] = set()
    try:
        async with conn.transaction():
            while True:
                msg = await sub.next_msg(timeout=IDLE_TIMEOUT_S)
                envelope = Envelope.from_bytes(msg.data)
                if envelope.type in types and envelope.event_id not in seen:
                    seen.add(envelope.event_id)
                    await projections.apply(conn, [envelope])
                    applied += 1
                if msg.metadata.sequence.stream >= last:
                    break
    finally:
        await sub.unsubscribe()
    return applied


async def _compare(conn: asyncpg.Connection, live_schema: str,
                   replay_schema: str) -> tuple[int, list[str]]:
    compared = 0
    details: list[str] = []
    for table, key in projections.READ_MODELS.items():
        order = ", ".join(key)
        live = await conn.fetch(f"SELECT * FROM {live_schema}.{table} ORDER BY {order}")
        rebuilt = await conn.fetch(f"SELECT * FROM {replay_schema}.{table} ORDER BY {order}")
        n, differing = diff_rows(table, key, live, rebuilt)
        compared += n
        details.extend(differing)
    return compared, details
