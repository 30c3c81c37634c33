"""Idempotent consumers: at-least-once delivery from JetStream, exactly-once effects, order kept
per aggregate.

Two ways to consume a stream:
- **One event at a time, in order per key** (`Subscription.handler`): events of one aggregate
  (the envelope's `aggregate_id`, a booking) are handled one after another in stream order;
  events of different aggregates are handled concurrently, up to `concurrency` at once. A
  handler may do slow things first (call the payment provider, which is idempotent by key), then
  open `work.transaction()`: that claims the event id in the inbox, in the same transaction as
  the handler's writes and the events it emits to the outbox.
- **A batch in one transaction** (`Subscription.apply_batch`, the projections): every event
  already delivered, up to `max_batch`, is claimed and applied in one transaction, in stream
  order, so the read side pays one commit per batch instead of one per event.

Either way an event is acked only after its transaction commits, so a process killed between the
two gets it redelivered, and a redelivered event finds its id claimed and changes nothing. A
failed handler is retried in the process (with back-off), never skipped, so nothing later of
the same aggregate overtakes it; after a crash the unacked events are delivered again in stream
order, before anything newer (the consumer is reset to its ack floor when a process starts).
Events are requested continuously (`PullFeed`): a message is handed over the moment it
arrives, with no batch to fill first, and an event held longer than a third of the ack wait is
marked in progress, so the ack wait can be a few seconds (what a crashed consumer costs) without
redelivering an event whose handler is only slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
import orjson
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as NatsSubscription
from nats.js import JetStreamContext
from nats.js.api import Header, StatusCode

from apps.booking.events import Event
from apps.microservices.common import storage
from apps.microservices.common.bus import DEFAULT_ACK_WAIT_S, consumer_config, durable_name
from apps.microservices.common.envelope import Envelope, envelope_for, stream_name
from apps.microservices.common.relay import OutboxRelay, Outgoing

log = logging.getLogger(__name__)

#: A pull request lives this long on the server; one that vanished (a reconnect) is replaced
#: after it, so a broker restart delays events by at most about this.
PULL_EXPIRES_S = 5.0
#: Back-off between attempts of a failing handler, doubling up to the cap.
RETRY_FIRST_S, RETRY_MAX_S = 0.05, 1.0
MAX_BATCH = 256


class AlreadyProcessed(Exception):
    """The event was handled before; nothing to do but ack it."""


@dataclass
class Tx:
    """An open transaction of a handler, with the means to emit events through the outbox."""

    conn: asyncpg.Connection
    service: str
    cause: Envelope | None
    emitted: list[Envelope] = field(default_factory=list)
    outgoing: list[Outgoing] = field(default_factory=list)

    async def emit(self, event: Event, aggregate_id: str, sequence: int = 0) -> Envelope:
        envelope = envelope_for(event, aggregate_id=aggregate_id, sequence=sequence,
                                cause=self.cause)
        self.outgoing.append(await storage.append_outbox(self.conn, self.service, envelope))
        self.emitted.append(envelope)
        return envelope

    @contextlib.asynccontextmanager
    async def committing(self, relay: OutboxRelay | None) -> AsyncIterator[Tx]:
        """`conn`'s transaction; once it has committed, the rows it wrote to the outbox go to
        `relay`. If the commit itself failed (the connection broke, or the task was cancelled
        while waiting for its answer), it may have happened all the same: the relay reads the
        table again before anything handed over later."""
        at_commit = False
        try:
            async with self.conn.transaction():
                yield self
                at_commit = True
        except BaseException:
            if at_commit and self.outgoing and relay is not None:
                relay.rescan()
            raise
        if self.outgoing and relay is not None:
            relay.committed(self.outgoing)


@dataclass
class Work:
    pool: asyncpg.Pool
    service: str
    consumer: str
    envelope: Envelope
    relay: OutboxRelay | None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self.pool.acquire() as conn, \
                Tx(conn, self.service, self.envelope).committing(self.relay) as tx:
            if not await storage.claim(conn, self.consumer, self.envelope):
                raise AlreadyProcessed(self.envelope.event_id)
            yield tx


Handler = Callable[[Envelope, Work], Awaitable[None]]
#: Applies events (already claimed, in stream order) within the caller's transaction.
BatchHandler = Callable[[asyncpg.Connection, list[Envelope]], Awaitable[None]]


@dataclass
class Subscription:
    """Events of `producer`'s stream (limited to `event_types`), handled one at a time by
    `handler` (in order per aggregate, `concurrency` aggregates at once) or in batches by
    `apply_batch` (in stream order, one transaction per batch)."""

    producer: str
    event_types: list[str]
    handler: Handler | None = None
    concurrency: int = 1
    apply_batch: BatchHandler | None = None
    max_batch: int = MAX_BATCH
    #: Told, after the batch's commit, which events it applied (readers waiting on them wake).
    applied: Callable[[list[Envelope]], None] | None = None

    def __post_init__(self) -> None:
        if (self.handler is None) == (self.apply_batch is None):
            raise ValueError("a subscription takes either a handler or apply_batch")
        if self.concurrency < 1 or self.max_batch < 1:
            raise ValueError("concurrency and max_batch must be >= 1")

    @property
    def max_ack_pending(self) -> int:
        """Events the broker lets this consumer hold unacked: enough to keep every lane (or the
        next batch) fed while one is being handled, and a bound on what the process holds."""
        if self.apply_batch is not None:
            return 2 * self.max_batch
        return max(64, 8 * self.concurrency)


class PullFeed:
    """Keeps pull requests outstanding on a durable consumer and yields each message as it
    arrives (what nats.go's `Consume` does; nats-py's `fetch` waits to fill its batch).

    Up to `window` messages are requested; a new request tops the window up when half of it
    has arrived, so the broker always has a request to deliver into. The broker itself never
    sends more than the consumer's max_ack_pending unacked messages, which bounds the memory.
    """

    def __init__(self, nc: Client, stream: str, durable: str, window: int) -> None:
        self.nc = nc
        self.subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self.window = window
        self.requested = 0
        self.sub: NatsSubscription | None = None

    async def messages(self) -> AsyncIterator[Msg]:
        inbox = self.nc.new_inbox()
        self.sub = await self.nc.subscribe(inbox)
        try:
            while True:
                if self.requested <= self.window // 2:
                    await self._request(inbox)
                try:
                    msg = await self.sub.next_msg(timeout=PULL_EXPIRES_S + 1.0)
                except TimeoutError:
                    self.requested = 0  # the request was lost (a reconnect): ask again
                    continue
                status = msg.headers.get(Header.STATUS) if msg.headers else None
                if status is None:
                    self.requested = max(0, self.requested - 1)
                    yield msg
                elif status != StatusCode.CONTROL_MESSAGE:  # 100 is a heartbeat
                    self._request_ended(msg, status)
        finally:
            with contextlib.suppress(Exception):
                await self.sub.unsubscribe()

    async def _request(self, inbox: str) -> None:
        more = self.window - self.requested
        await self.nc.publish(self.subject, orjson.dumps(
            {"batch": more, "expires": int(PULL_EXPIRES_S * 1e9)}), reply=inbox)
        self.requested += more

    def _request_ended(self, msg: Msg, status: str) -> None:
        """408 (expired), 409 (e.g. max waiting exceeded) or 404: part of what was requested
        will not come; the broker says how much in Nats-Pending-Messages."""
        unfilled = (msg.headers or {}).get("Nats-Pending-Messages")
        if unfilled is not None and unfilled.isdigit():
            self.requested = max(0, self.requested - int(unfilled))
        else:
            self.requested = 0
        if status not in (StatusCode.REQUEST_TIMEOUT, StatusCode.NO_MESSAGES):
            log.warning("%s: pull request ended: %s %s", self.subject, status,
                        (msg.headers or {}).get(Header.DESCRIPTION, ""))


@dataclass
class _Held:
    """A message this process holds unacked, and when it last told the broker so."""

    msg: Msg
    envelope: Envelope
    marked_at: float


class ConsumerLoop:
    def __init__(self, service: str, subscription: Subscription, pool: asyncpg.Pool,
                 nc: Client, js: JetStreamContext, relay: OutboxRelay | None,
                 ack_wait_s: float = DEFAULT_ACK_WAIT_S) -> None:
        self.service = service
        self.sub = subscription
        self.pool = pool
        self.nc = nc
        self.js = js
        self.relay = relay
        self.consumer = durable_name(service, subscription.producer)
        self.ack_wait_s = ack_wait_s
        self.handled = 0
        self.held: dict[int, _Held] = {}
        self.lanes: dict[str, deque[_Held]] = {}
        self.slots = asyncio.Semaphore(subscription.concurrency)
        self.batch: asyncio.Queue[_Held] = asyncio.Queue()
        self.tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        stream = stream_name(self.sub.producer)
        subjects = [f"{self.sub.producer}.events.{t}" for t in self.sub.event_types]
        config = consumer_config(self.service, self.sub.producer, subjects,
                                 max_ack_pending=self.sub.max_ack_pending,
                                 ack_wait_s=self.ack_wait_s)
        await self.js.add_consumer(stream, config)
        # What an earlier incarnation of this process held unacked would come back only after
        # the ack wait, behind events delivered since: a projection would then see a booking's
        # confirmation before its request. Resetting the consumer (ADR-60, nats-server 2.14)
        # restarts delivery right above the ack floor, so everything not yet acked is delivered
        # again, in stream order, before anything newer; the inbox skips what was applied.
        await self.js.reset_consumer(stream, self.consumer)
        feed = PullFeed(self.nc, stream, self.consumer, self.sub.max_ack_pending)
        background = [asyncio.create_task(self._keep_in_progress(),
                                          name=f"{self.consumer}-in-progress")]
        if self.sub.apply_batch is not None:
            background.append(asyncio.create_task(self._batches(), name=f"{self.consumer}-batch"))
        try:
            async for msg in feed.messages():
                held = await self._hold(msg)
                if held is None:
                    continue
                if self.sub.apply_batch is not None:
                    self.batch.put_nowait(held)
                else:
                    self._to_lane(held)
                for task in background:  # a dead helper must not go unnoticed
                    if task.done():
                        task.result()
        finally:
            for task in [*background, *self.tasks]:
                task.cancel()
            await asyncio.gather(*background, *self.tasks, return_exceptions=True)

    async def _hold(self, msg: Msg) -> _Held | None:
        try:
            envelope = Envelope.from_bytes(msg.data)
        except Exception:
            # a message no version of this code can read: redelivering it would block its
            # aggregate forever, so it is terminated and logged for a human
            log.exception("%s: undecodable message %s terminated", self.consumer,
                          msg.metadata.sequence.stream)
            with contextlib.suppress(Exception):
                await msg.term()
            return None
        held = _Held(msg, envelope, time.monotonic())
        self.held[msg.metadata.sequence.stream] = held
        return held

    # one event at a time, in order per aggregate

    def _to_lane(self, held: _Held) -> None:
        key = held.envelope.aggregate_id
        lane = self.lanes.get(key)
        if lane is not None:
            lane.append(held)  # its lane is running: handled after the events before it
            return
        self.lanes[key] = deque([held])
        task = asyncio.create_task(self._lane(key), name=f"{self.consumer}-{key}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _lane(self, key: str) -> None:
        lane = self.lanes[key]
        try:
            while lane:
                held = lane[0]
                async with self.slots:
                    await self._until_done(functools.partial(self._handle_one, held.envelope), held)
                lane.popleft()
                await self._ack([held])
        finally:
            del self.lanes[key]

    async def _handle_one(self, envelope: Envelope) -> None:
        assert self.sub.handler is not None
        work = Work(self.pool, self.service, self.consumer, envelope, self.relay)
        with contextlib.suppress(AlreadyProcessed):
            await self.sub.handler(envelope, work)

    # batches, in stream order

    async def _batches(self) -> None:
        while True:
            batch = [await self.batch.get()]
            while len(batch) < self.sub.max_batch and not self.batch.empty():
                batch.append(self.batch.get_nowait())
            await self._until_done(functools.partial(self._apply, batch), *batch)
            await self._ack(batch)

    async def _apply(self, batch: list[_Held]) -> None:
        assert self.sub.apply_batch is not None
        async with self.pool.acquire() as conn, conn.transaction():
            fresh = set(await storage.claim_many(conn, self.consumer,
                                                 [h.envelope for h in batch]))
            # a redelivered event already applied is skipped (and so is a second copy of
            # one delivered twice into the same batch); the rest keep stream order
            todo = []
            for held in batch:
                if held.envelope.event_id in fresh:
                    fresh.discard(held.envelope.event_id)
                    todo.append(held.envelope)
            await self.sub.apply_batch(conn, todo)
        if self.sub.applied is not None:
            self.sub.applied(todo)

    # shared

    async def _until_done(self, attempt: Callable[[], Awaitable[None]], *held: _Held) -> None:
        """Retry `attempt` until it succeeds: giving up would let a later event of the same
        aggregate overtake it (the broker keeps it, marked in progress, meanwhile)."""
        delay = RETRY_FIRST_S
        while True:
            try:
                await attempt()
                return
            except Exception:
                log.exception("%s: %s failed; retrying in %.2f s", self.consumer,
                              ", ".join(f"{h.envelope.type} {h.envelope.event_id}"
                                        for h in held[:3]), delay)
            await asyncio.sleep(delay)
            delay = min(RETRY_MAX_S, delay * 2)

    async def _ack(self, done: list[_Held]) -> None:
        for held in done:
            self.held.pop(held.msg.metadata.sequence.stream, None)
            with contextlib.suppress(Exception):
                # an ack lost to a broken connection means one redelivery, found in the inbox
                await held.msg.ack()
        self.handled += len(done)

    async def _keep_in_progress(self) -> None:
        """Every event held for a third of the ack wait is marked in progress, so the broker
        redelivers only what a dead process held, not what a slow handler is still working on
        or what waits behind it in its lane."""
        period = self.ack_wait_s / 3
        while True:
            await asyncio.sleep(period / 2)
            now = time.monotonic()
            for held in list(self.held.values()):
                if now - held.marked_at >= period:
                    held.marked_at = now
                    with contextlib.suppress(Exception):
                        await held.msg.in_progress()
