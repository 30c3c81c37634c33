"""The outbox relay: publishes committed outbox rows to JetStream in order, pipelined.

Each message carries `Nats-Msg-Id` = event id, so a row published again after a crash between
publish and delete is dropped by the stream's duplicate window (and by consumers' inboxes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from nats.js import JetStreamContext

log = logging.getLogger(__name__)
BATCH = 512
IDLE_POLL_S = 1.0


class OutboxRelay:
    def __init__(self, pool: asyncpg.Pool, js: JetStreamContext) -> None:
        self.pool = pool
        self.js = js
        self.wake = asyncio.Event()
        self.published = 0

    def notify(self) -> None:
        self.wake.set()

    async def run(self) -> None:
        while True:
            try:
                moved = await self.publish_batch()
            except Exception:
                log.exception("outbox relay failed; retrying")
                await asyncio.sleep(0.5)
                continue
            if moved < BATCH:
                with contextlib.suppress(TimeoutError):
                    # every local commit wakes it; the timeout only picks up rows a crashed
                    # process left behind
                    await asyncio.wait_for(self.wake.wait(), timeout=IDLE_POLL_S)
                self.wake.clear()

    async def publish_batch(self) -> int:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT position, subject, event_id, body FROM outbox ORDER BY position LIMIT $1",
                BATCH,
            )
            if not rows:
                return 0
            acks = [
                await self.js.publish_async(r["subject"], bytes(r["body"]),
                                            headers={"Nats-Msg-Id": r["event_id"]})
                for r in rows
            ]
            await asyncio.gather(*acks)
            await conn.execute("DELETE FROM outbox WHERE position = ANY($1::bigint[])",
                               [r["position"] for r in rows])
        self.published += len(rows)
        return len(rows)
