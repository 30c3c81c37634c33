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


def _failure(what: str, timeout_s: float, last: object) -> AssertionError:
    return AssertionError(f"not within {timeout_s:g} s: {what}; last seen: {last!r}")


def wait_until(predicate: Callable[[], T], timeout_s: float, what: str, interval_s: float = 0.05, *,
               done: Callable[[T], object] = bool,
               ignoring: tuple[type[BaseException], ...] = ()) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            last: Any = predicate()
            if done(last):
                return last
        except ignoring as error:
            last = error
        if time.monotonic() >= deadline:
            raise _failure(what, timeout_s, last)
        time.sleep(interval_s)


async def wait_until_async(predicate: Callable[[], T | Awaitable[T]], timeout_s: float, what: str,
                           interval_s: float = 0.05, *, done: Callable[[T], object] = bool,
                           ignoring: tuple[type[BaseException], ...] = ()) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            last: Any = predicate()
            if inspect.isawaitable(last):
                last = await last
            if done(last):
                return last
        except ignoring as error:
            last = error
        if time.monotonic() >= deadline:
            raise _failure(what, timeout_s, last)
        await asyncio.sleep(interval_s)
