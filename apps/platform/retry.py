"""One retry policy for a transaction that lost a race, in every architecture.

PostgreSQL aborts one of two transactions that deadlock or fail to serialize; the loser is run
again from the start (its whole transaction rolled back, an inbox claim included, so running it
again is safe). The same attempts and backoff everywhere keep the architectures comparable.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

T = TypeVar("T")
ATTEMPTS = 5
FIRST_DELAY_S = 0.003
LOST_A_RACE: tuple[type[BaseException], ...] = (
    asyncpg.DeadlockDetectedError, asyncpg.SerializationError,
)


async def retrying(work: Callable[[], Awaitable[T]],
                   also: tuple[type[BaseException], ...] = ()) -> T:
    """Run `work` until it does not lose a race (or `also` names another race, such as an
    optimistic-concurrency conflict), at most ATTEMPTS times; the last failure is raised."""
    retryable = LOST_A_RACE + also
    for attempt in range(ATTEMPTS):
        try:
            return await work()
        except retryable:
            if attempt == ATTEMPTS - 1:
                raise
            # doubling, with jitter so two losers of the same race do not collide again
            await asyncio.sleep(FIRST_DELAY_S * 2**attempt * random.uniform(0.5, 1.0))
    raise AssertionError("unreachable")
