"""Rebuild every booking aggregate from the JetStream log and compare with the event store."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import asyncpg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from apps.microservices.booking import store
from apps.microservices.booking.aggregate import StoredEvent, fold
from apps.microservices.common import bus
from apps.microservices.common.envelope import Envelope, stream_name


async def read_stream(nats_url: str, producer: str) -> list[Envelope]:
    """Every message of `producer`'s stream from sequence 1 to its last sequence right now."""
    nc, js = await bus.connect(nats_url, f"replay-{producer}")
    try:
        info = await js.stream_info(stream_name(producer))
        last = info.state.last_seq
        envelopes: list[Envelope] = []
        if info.state.messages == 0:
            return envelopes
        sub = await js.pull_subscribe(
            "", stream=stream_name(producer),
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE,
                                  filter_subjects=[f"{producer}.events.>"],
                                  inactive_threshold=30.0),
        )
        while True:
            for msg in await sub.fetch(batch=512, timeout=5):
                envelopes.append(Envelope.from_bytes(msg.data))
                if msg.metadata.sequence.stream >= last:
                    await sub.unsubscribe()
                    return envelopes
    finally:
        await nc.close()


async def replay(dsn: str, nats_url: str) -> dict[str, Any]:
    envelopes = await read_stream(nats_url, "booking")
    by_aggregate: dict[str, list[StoredEvent]] = defaultdict(list)
    seen: set[str] = set()
    for e in envelopes:
        if e.event_id in seen:  # a republished outbox row: at-least-once, counted once
            continue
        seen.add(e.event_id)
        by_aggregate[e.aggregate_id].append(
            StoredEvent(e.aggregate_id, e.sequence, e.event_id, e.type, e.payload, e.occurred_at))
    conn = await asyncpg.connect(dsn)
    try:
        live_events = await store.all_events(conn)
    finally:
        await conn.close()
    live: dict[str, list[StoredEvent]] = defaultdict(list)
    for event in live_events:
        live[event.aggregate_id].append(event)
    differences = []
    for booking_id in sorted(by_aggregate.keys() | live.keys()):
        from_log = fold(sorted(by_aggregate.get(booking_id, []), key=lambda s: s.sequence))
        from_store = fold(live.get(booking_id, []))
        if from_log != from_store:
            differences.append(booking_id)
    return {
        "service": "booking", "events_replayed": len(envelopes),
        "rows_compared": len(by_aggregate.keys() | live.keys()),
        "differences": len(differences), "details": differences[:10],
    }
