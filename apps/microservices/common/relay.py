"""The outbox relay: publishes committed outbox rows to JetStream in commit order, pipelined.

A transaction that wrote outbox rows hands them to the relay once it has committed
(`committed`), and the relay publishes them from memory at once: no query per commit, no
polling. Once JetStream has acknowledged them, their rows are deleted in batches: one DELETE
for whatever was published in the last `DELETE_EVERY_S`, or for `BATCH` rows.

Rows an earlier incarnation of the process left (it died between a commit and the publish, or
between the publish and the delete) are read from the table when the relay starts, and
published before anything committed since. So are the rows of a transaction whose commit may
have happened without this process learning it (the connection broke, or the task was
cancelled, during COMMIT): `rescan` has the table read again, in order, before whatever is
handed over after it. A scan reads rows up to the highest position it saw first: a row below
that bound not yet visible belongs to a transaction still in flight in this process, which
hands it over itself; anything after such a row gets a higher position and so comes only
through the queue, behind it. Each message carries `Nats-Msg-Id` = event id, so a row published
twice is dropped by the stream's duplicate window (and by consumers' inboxes).
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
#: nats-py never fails a publish whose ack is lost (the broker died with it on the wire): a
#: batch not acknowledged by then is published again.
ACK_TIMEOUT_S = 10.0
#: Committed rows held in memory at most: past this (the broker has been away a while) the queue
#: is dropped for a scan of the table, which holds every row anyway, so memory stays bounded
#: however long the outage lasts.
MAX_QUEUED = 10_000


@dataclass(frozen=True)
class Outgoing:
    """One committed outbox row."""

    position: int
    subject: str
    event_id: str
    body: bytes


class OutboxRelay:
    def __init__(self, pool: asyncpg.Pool, js: JetStreamContext,
                 max_queued: int = MAX_QUEUED) -> None:
        self.pool = pool
        self.js = js
        self.max_queued = max_queued
        self.queue: deque[Outgoing | None] = deque()  # None: read the table again
        self.wake = asyncio.Event()
        self.published = 0
        self.unrelayed: list[int] = []  # published, not yet deleted
        self.deleted_at = time.monotonic()

    def committed(self, rows: Iterable[Outgoing]) -> None:
        """Rows a transaction wrote, called right after it committed, in commit order."""
        if len(self.queue) >= self.max_queued:
            # every queued row is committed, so a scan finds it (and these) in the table
            log.warning("outbox relay: %d rows waiting; reading the table instead", len(self.queue))
            self.queue.clear()
            self.queue.append(None)
        self.queue.extend(rows)
        self.wake.set()

    def rescan(self) -> None:
        """A transaction with outbox rows may have committed unseen: before anything handed
        over after this call, publish whatever the table holds."""
        self.queue.append(None)
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
            if self.queue and self.queue[0] is None:
                self.queue.popleft()
                await self._until_done(self.recover)
            elif self.queue:
                batch: list[Outgoing] = []
                while self.queue and self.queue[0] is not None and len(batch) < BATCH:
                    batch.append(self.queue.popleft())  # type: ignore[arg-type]
                await self._until_done(functools.partial(self._publish, batch))
                self.unrelayed += [row.position for row in batch]
            if self.unrelayed and (len(self.unrelayed) >= BATCH
                                   or time.monotonic() - self.deleted_at >= DELETE_EVERY_S):
                await self._until_done(self._delete)

    async def recover(self) -> int:
        """Publish (and delete) every row in the table up to the highest position seen at the
        start, oldest first. Returns how many."""
        async with self.pool.acquire() as conn:
            highest = await conn.fetchval("SELECT coalesce(max(position), 0) FROM outbox")
        last, moved = 0, 0
        while True:
            async with self.pool.acquire() as conn:
                rows = await conn.fetch(
                    "SELECT position, subject, event_id, body FROM outbox "
                    "WHERE position > $1 AND position <= $2 ORDER BY position LIMIT $3",
                    last, highest, BATCH)
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
        await asyncio.wait_for(asyncio.gather(*acks), ACK_TIMEOUT_S)
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
