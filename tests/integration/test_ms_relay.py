"""The outbox relay on a real PostgreSQL and NATS: what a transaction committed is published
from memory in commit order, rows a dead process left are published first when it starts, and
every published row is deleted, each event stored once."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

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


async def test_left_rows_go_first_then_commits_in_order_each_stored_once(
        dsn: str, nats_server: NatsServer) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    nc, js = await bus.connect(nats_server.url, "relay-test")
    task = None
    try:
        async with pool.acquire() as conn:
            await conn.execute(storage.DDL)
        await bus.ensure_stream(js, "booking")
        # a process that died after committing these, before relaying them
        left = [_event(n) for n in range(3)]
        await _write(pool, left)
        relay = OutboxRelay(pool, js)
        # committed before the relay starts: in the table (recovered) and handed over too
        early = [_event(n) for n in range(3, 5)]
        relay.committed(await _write(pool, early))
        task = asyncio.create_task(relay.run())
        later = [_event(n) for n in range(5, 9)]
        for envelope in later:
            relay.committed(await _write(pool, [envelope]))

        async def all_relayed() -> bool:
            async with pool.acquire() as conn:
                return await conn.fetchval("SELECT count(*) FROM outbox") == 0

        async with EventBus(nats_server.url) as events:
            await wait_until_async(all_relayed, 20, "every outbox row deleted")
            stored = await events.events("booking")
        assert [e.event_id for e in stored] == [e.event_id for e in [*left, *early, *later]]
        assert relay.published >= len(stored)  # the early ones twice, dropped by the stream
    finally:
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await nc.close()
        await pool.close()
