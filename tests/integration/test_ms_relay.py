"""The outbox relay on a real PostgreSQL and NATS: what a transaction committed is published
from memory in commit order, rows a dead process left are published first when it starts, and
every published row is deleted, each event stored once."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg
import pytest
from nats.js import JetStreamContext

from apps.booking.events import BookingConfirmed
from apps.microservices.common import bus, storage
from apps.microservices.common.envelope import Envelope, envelope_for
from apps.microservices.common.relay import OutboxRelay, Outgoing
from harness.deploy.nats import NatsServer
from harness.deploy.postgres import PostgresServer
from tests.integration.ms_support import EventBus
from tests.support.polling import wait_until_async

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
def dsn(postgres: PostgresServer) -> str:
    return postgres.create_database(f"relay_{uuid.uuid4().hex[:10]}")


def _event(n: int) -> Envelope:
    return envelope_for(BookingConfirmed(booking_id=f"b{n}", customer_id="c", authorization_id="a",
                                         amount_cents=100), aggregate_id=f"b{n}")


async def _write(pool: asyncpg.Pool, envelopes: list[Envelope]) -> list[Outgoing]:
    async with pool.acquire() as conn, conn.transaction():
        return [await storage.append_outbox(conn, "booking", e) for e in envelopes]


async def _all_relayed(pool: asyncpg.Pool) -> bool:
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM outbox") == 0


@dataclass
class _Outbox:
    """A service's outbox table and its stream, and the relay tasks a test started on them."""

    pool: asyncpg.Pool
    js: JetStreamContext
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self, relay: OutboxRelay) -> None:
        self.tasks.append(asyncio.create_task(relay.run()))


@contextlib.asynccontextmanager
async def _outbox(dsn: str, nats_url: str) -> AsyncIterator[_Outbox]:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    nc, js = await bus.connect(nats_url, "relay-test")
    outbox = _Outbox(pool, js)
    try:
        async with pool.acquire() as conn:
            await conn.execute(storage.DDL)
        await bus.ensure_stream(js, "booking")
        yield outbox
    finally:
        for task in outbox.tasks:
            task.cancel()
        await asyncio.gather(*outbox.tasks, return_exceptions=True)
        await nc.close()
        await pool.close()


async def _stored_once_relayed(pool: asyncpg.Pool, nats_url: str) -> list[str]:
    """Event ids in the stream once every outbox row is deleted."""
    async with EventBus(nats_url) as events:
        await wait_until_async(lambda: _all_relayed(pool), 20, "every outbox row deleted")
        return [e.event_id for e in await events.events("booking")]


async def test_left_rows_go_first_then_commits_in_order_each_stored_once(
        dsn: str, nats_server: NatsServer) -> None:
    async with _outbox(dsn, nats_server.url) as outbox:
        pool = outbox.pool
        # a process that died after committing these, before relaying them
        left = [_event(n) for n in range(3)]
        await _write(pool, left)
        relay = OutboxRelay(pool, outbox.js)
        # committed before the relay starts: in the table (recovered) and handed over too
        early = [_event(n) for n in range(3, 5)]
        relay.committed(await _write(pool, early))
        outbox.start(relay)
        await wait_until_async(lambda: relay.published == 7, 20, "the table and the queue relayed")
        # from now on only what is handed over is published: nothing reads the table
        later = [_event(n) for n in range(5, 9)]
        for envelope in later:
            relay.committed(await _write(pool, [envelope]))

        stored = await _stored_once_relayed(pool, nats_server.url)
        assert stored == [e.event_id for e in [*left, *early, *later]]
        assert relay.published == 11  # the early ones twice: the stream dropped the copies


async def test_a_commit_it_was_not_told_of_is_published_before_later_ones_after_a_rescan(
        dsn: str, nats_server: NatsServer) -> None:
    async with _outbox(dsn, nats_server.url) as outbox:
        pool = outbox.pool
        relay = OutboxRelay(pool, outbox.js)
        outbox.start(relay)
        first = _event(0)
        relay.committed(await _write(pool, [first]))
        await wait_until_async(lambda: _all_relayed(pool), 20, "the first row relayed")
        # committed, but the answer to COMMIT never came back: the relay was not told
        unseen = _event(1)
        await _write(pool, [unseen])
        relay.rescan()
        after = _event(2)  # the same aggregate's next event, handed over after the rescan
        relay.committed(await _write(pool, [after]))

        stored = await _stored_once_relayed(pool, nats_server.url)
        assert stored == [first.event_id, unseen.event_id, after.event_id]


async def test_a_queue_past_its_bound_gives_way_to_a_scan_and_loses_nothing(
        dsn: str, nats_server: NatsServer) -> None:
    async with _outbox(dsn, nats_server.url) as outbox:
        pool = outbox.pool
        # not running yet (as when it cannot publish): commits pile up in its queue
        relay = OutboxRelay(pool, outbox.js, max_queued=3)
        written = [_event(n) for n in range(8)]
        for envelope in written:
            relay.committed(await _write(pool, [envelope]))
        assert len(relay.queue) <= 3 + 1 and None in relay.queue  # bounded: a scan replaced them
        outbox.start(relay)

        stored = await _stored_once_relayed(pool, nats_server.url)
        assert stored == [e.event_id for e in written]
