"""NATS JetStream: one durable file-backed stream per producing service, durable pull consumers."""

from __future__ import annotations

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

from apps.microservices.common.envelope import stream_name

DUPLICATE_WINDOW_S = 120.0
#: How long JetStream waits for an ack before redelivering: what a crashed consumer costs in
#: delay. Consumers mark events they still work on in progress, so a slow handler is not
#: redelivered however long it takes.
DEFAULT_ACK_WAIT_S = 3.0


async def connect(url: str, name: str) -> tuple[Client, JetStreamContext]:
    nc = await nats.connect(url, name=name, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    return nc, nc.jetstream(timeout=10)


async def ensure_stream(js: JetStreamContext, producer: str) -> None:
    """Create `producer`'s stream if missing; every service derives the same config."""
    config = StreamConfig(
        name=stream_name(producer), subjects=[f"{producer}.events.>"],
        storage=StorageType.FILE, duplicate_window=DUPLICATE_WINDOW_S,
    )
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)


def durable_name(consumer: str, producer: str) -> str:
    return f"{consumer}-from-{producer}"


def consumer_config(consumer: str, producer: str, subjects: list[str],
                    max_ack_pending: int, ack_wait_s: float = DEFAULT_ACK_WAIT_S) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=durable_name(consumer, producer),
        filter_subjects=subjects,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=ack_wait_s,
        max_deliver=-1,
        max_ack_pending=max_ack_pending,
    )
