"""Idempotent consumers: at-least-once delivery from JetStream, exactly-once effects.

A handler receives the envelope and a `Work`. It may do slow things first (call the payment
provider, which is idempotent by key), then open `work.transaction()`: that claims the event id
in the inbox, in the same transaction as the handler's writes and the events it emits to the
outbox. A redelivered event finds its id claimed, changes nothing, and is acked again. The ack is
sent only after the commit, so a process killed between the two gets the message redelivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext

from apps.booking.events import Event
from apps.microservices.common import storage
from apps.microservices.common.bus import consumer_config, durable_name
from apps.microservices.common.envelope import Envelope, envelope_for, stream_name
from apps.microservices.common.relay import OutboxRelay

log = logging.getLogger(__name__)


class AlreadyProcessed(Exception):
    """The event was handled before; nothing to do but ack it."""


@dataclass
class Tx:
    """An open transaction of a handler, with the means to emit events through the outbox."""

    conn: asyncpg.Connection
    service: str
    cause: Envelope | None
    emitted: list[Envelope] = field(default_factory=list)

    async def emit(self, event: Event, aggregate_id: str, sequence: int = 0) -> Envelope:
        envelope = envelope_for(event, aggregate_id=aggregate_id, sequence=sequence,
                                cause=self.cause)
        await storage.append_outbox(self.conn, self.service, envelope)
        self.emitted.append(envelope)
        return envelope


@dataclass
class Work:
    pool: asyncpg.Pool
    service: str
    consumer: str
    envelope: Envelope
    relay: OutboxRelay | None

    async def already_processed(self) -> bool:
        return await storage.seen(self.pool, self.consumer, self.envelope.event_id)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                if not await storage.claim(conn, self.consumer, self.envelope.event_id):
                    raise AlreadyProcessed(self.envelope.event_id)
                tx = Tx(conn, self.service, self.envelope)
                yield tx
            if tx.emitted and self.relay is not None:
                self.relay.notify()


Handler = Callable[[Envelope, Work], Awaitable[None]]


@dataclass
class Subscription:
    """Events of `producer`'s stream (limited to `event_types`) handled by `handler`.

    `concurrency` 1 keeps the stream's order (projections need it); more lets independent
    events (different bookings) be handled at once, e.g. while waiting on the payment provider.
    """

    producer: str
    event_types: list[str]
    handler: Handler
    concurrency: int = 1


class ConsumerLoop:
    def __init__(self, service: str, subscription: Subscription, pool: asyncpg.Pool,
                 js: JetStreamContext, relay: OutboxRelay | None, ack_wait_s: float = 30.0) -> None:
        self.service = service
        self.sub = subscription
        self.pool = pool
        self.js = js
        self.relay = relay
        self.consumer = durable_name(service, subscription.producer)
        self.ack_wait_s = ack_wait_s
        self.handled = 0

    async def run(self) -> None:
        subjects = [f"{self.sub.producer}.events.{t}" for t in self.sub.event_types]
        # In-order consumers allow one unacked message: a failed or crashed-on event is then
        # redelivered before anything after it, so a projection never sees an update before
        # the insert it depends on.
        in_order = self.sub.concurrency == 1
        config = consumer_config(self.service, self.sub.producer, subjects,
                                 max_ack_pending=1 if in_order else self.sub.concurrency * 2,
                                 ack_wait_s=self.ack_wait_s)
        pull = await self.js.pull_subscribe(
            "", durable=self.consumer,
            stream=stream_name(self.sub.producer), config=config,
        )
        # One pull loop per unit of concurrency, each fetching a single message: a batch fetch
        # in nats-py lingers after the first message, waiting for the rest of the batch, which
        # delayed events by up to its timeout (seen as ~0.5 s tails in book_e2e).
        # each loop gets its own subscription (inbox), so one loop never takes another's
        # status messages
        pulls = [pull] + [
            await self.js.pull_subscribe_bind(durable=self.consumer,
                                              stream=stream_name(self.sub.producer))
            for _ in range(self.sub.concurrency - 1)
        ]
        workers = [asyncio.create_task(self._pull_loop(p), name=f"{self.consumer}-{i}")
                   for i, p in enumerate(pulls)]
        try:
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _pull_loop(self, pull: JetStreamContext.PullSubscription) -> None:
        while True:
            try:
                messages = await pull.fetch(batch=1, timeout=5)
            except NatsTimeout:
                continue
            except Exception:
                log.exception("%s: fetch failed; retrying", self.consumer)
                await asyncio.sleep(0.5)
                continue
            for msg in messages:
                await self._handle(msg)

    async def _handle(self, msg: Msg) -> None:
        try:
            envelope = Envelope.from_bytes(msg.data)
        except Exception:
            # a message no version of this code can read: redelivering it would block the
            # stream forever, so it is terminated and logged for a human
            log.exception("%s: undecodable message %s terminated", self.consumer,
                          msg.metadata.sequence.stream)
            with contextlib.suppress(Exception):
                await msg.term()
            return
        work = Work(self.pool, self.service, self.consumer, envelope, self.relay)
        try:
            await self.sub.handler(envelope, work)
        except AlreadyProcessed:
            pass
        except Exception:
            log.exception("%s: %s %s failed; will be redelivered", self.consumer, envelope.type,
                          envelope.event_id)
            with contextlib.suppress(Exception):
                await msg.nak(delay=1.0)
            return
        await msg.ack()
        self.handled += 1
