"""Waiting for an asynchronous effect: poll with a deadline, never sleep a fixed time and hope.

`wait_until` calls `predicate` every `interval_s` until it returns something truthy and returns
that value; past `timeout_s` it fails with `what` and the last value seen. With `done`, `predicate`
is a probe whose value is returned once `done(value)` holds, so a failure shows the probe's last
value rather than a bare False. Exceptions of the `ignoring` types count as "not yet" (a server
still starting refuses connections). `wait_until_async` is the same for a coroutine's event loop:
its predicate may return a value or an awaitable.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class _Attempts:
    """What the sync and the async wait share: the deadline, the last value seen, the failure."""

    def __init__(self, timeout_s: float, what: str, done: Callable[[Any], object]) -> None:
        self.timeout_s, self.what, self.done = timeout_s, what, done
        self.deadline = time.monotonic() + timeout_s
        self.last: Any = None

    def holds(self, value: object) -> bool:
        self.last = value
        return bool(self.done(value))

    def pause(self, interval_s: float) -> float:
        """How long to wait before the next attempt; past the deadline, the failure."""
        if time.monotonic() >= self.deadline:
            raise AssertionError(f"not within {self.timeout_s:g} s: {self.what}; last seen: {self.last!r}")
        return interval_s


def wait_until(predicate: Callable[[], T], timeout_s: float, what: str, interval_s: float = 0.05, *,
               done: Callable[[T], object] = bool,
               ignoring: tuple[type[BaseException], ...] = ()) -> T:
    attempts = _Attempts(timeout_s, what, done)
    while True:
        try:
            if attempts.holds(predicate()):
                return attempts.last
        except ignoring as error:
            attempts.last = error
        time.sleep(attempts.pause(interval_s))


async def wait_until_async(predicate: Callable[[], T | Awaitable[T]], timeout_s: float, what: str,
                           interval_s: float = 0.05, *, done: Callable[[T], object] = bool,
                           ignoring: tuple[type[BaseException], ...] = ()) -> T:
    attempts = _Attempts(timeout_s, what, done)
    while True:
        try:
            value = predicate()
            if attempts.holds(await value if inspect.isawaitable(value) else value):
                return attempts.last
        except ignoring as error:
            attempts.last = error
        await asyncio.sleep(attempts.pause(interval_s))
