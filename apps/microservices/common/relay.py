"""The outbox relay: publishes committed outbox rows to JetStream in commit order, pipelined.

A transaction that wrote outbox rows hands them to the relay once it has committed
(`committed`), and the relay publishes them from memory at once: no query per commit, no
polling. Once JetStream has acknowledged them, their rows are deleted in batches: one DELETE
for whatever was published in the last `DELETE_EVERY_S`, or for `BATCH` rows.

Rows an earlier incarnation of the process left (it died between a commit and the publish, or
between the publish and the delete) are read from the table when the relay starts, and
published before anything committed since. Each message carries `Nats-Msg-Id` = event id, so a
row published twice is dropped by the stream's duplicate window (and by consumers' inboxes).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import asyncpg
from nats.js import JetStreamContext

log = logging.getLogger(__name__)
BATCH = 512
DELETE_EVERY_S = 0.2
RETRY_S = 0.5


@dataclass(frozen=True)
class Outgoing:
    """One committed outbox row."""

    position: int
    subject: str
    event_id: str
    body: bytes


class OutboxRelay:
    def __init__(self, pool: asyncpg.Pool, js: JetStreamContext) -> None:
        self.pool = pool
        self.js = js
        self.queue: deque[Outgoing] = deque()
        self.wake = asyncio.Event()
        self.published = 0
        self.unrelayed: list[int] = []  # published, not yet deleted
        self.deleted_at = time.monotonic()

    def committed(self, rows: Iterable[Outgoing]) -> None:
        """Rows a transaction wrote, called right after it committed, in commit order."""
        self.queue.extend(rows)
        self.wake.set()

    async def run(self) -> None:
        await self._until_done(self.recover)
        while True:
            if not self.queue:
                with contextlib.suppress(TimeoutError):
                    # with rows left to delete, wake up when they are due
                    await asyncio.wait_for(self.wake.wait(), timeout=(
                        max(0.0, self.deleted_at + DELETE_EVERY_S - time.monotonic())
                        if self.unrelayed else None))
                self.wake.clear()
            if self.queue:
                batch = [self.queue.popleft() for _ in range(min(BATCH, len(self.queue)))]
                await self._until_done(functools.partial(self._publish, batch))
                self.unrelayed += [row.position for row in batch]
            if self.unrelayed and (len(self.unrelayed) >= BATCH
                                   or time.monotonic() - self.deleted_at >= DELETE_EVERY_S):
                await self._until_done(self._delete)

    async def recover(self) -> int:
        """Publish (and delete) every row in the table, oldest first: what a process that
        ended before relaying them left. Returns how many."""
        last, moved = 0, 0
        while True:
            async with self.pool.acquire() as conn:
                rows = await conn.fetch(
                    "SELECT position, subject, event_id, body FROM outbox WHERE position > $1 "
                    "ORDER BY position LIMIT $2", last, BATCH)
            if not rows:
                return moved
            batch = [Outgoing(r["position"], r["subject"], r["event_id"], bytes(r["body"]))
                     for r in rows]
            await self._publish(batch)
            self.unrelayed += [row.position for row in batch]
            await self._delete()
            last, moved = batch[-1].position, moved + len(batch)

    async def _publish(self, batch: list[Outgoing]) -> None:
        acks = [await self.js.publish_async(row.subject, row.body,
                                            headers={"Nats-Msg-Id": row.event_id})
                for row in batch]
        await asyncio.gather(*acks)
        self.published += len(batch)

    async def _delete(self) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute("DELETE FROM outbox WHERE position = ANY($1::bigint[])",
                               self.unrelayed)
        self.unrelayed = []
        self.deleted_at = time.monotonic()

    @staticmethod
    async def _until_done(attempt: Callable[[], Awaitable[object]]) -> None:
        """Retry until it succeeds (the broker or the database may be away for a while): a
        row skipped would let later events of its aggregate overtake it."""
        while True:
            try:
                await attempt()
                return
            except Exception:
                log.exception("outbox relay failed; retrying in %.1f s", RETRY_S)
                await asyncio.sleep(RETRY_S)
