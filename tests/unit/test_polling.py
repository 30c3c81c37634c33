"""The one polling helper: it returns what the predicate saw once it holds, and a timeout names what
was awaited and the last value seen."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from tests.support.polling import wait_until, wait_until_async


def test_returns_the_first_truthy_value() -> None:
    values = iter([0, None, "", "here"])
    assert wait_until(lambda: next(values), 1, "a value", 0) == "here"


def test_a_timeout_names_what_was_awaited_and_the_last_value_seen() -> None:
    counter = itertools.count()
    with pytest.raises(AssertionError, match=r"not within 0\.05 s: the counter at -1; last seen: False$"):
        wait_until(lambda: next(counter) == -1, 0.05, "the counter at -1", 0.01)
    with pytest.raises(AssertionError, match=r"the counter at -1; last seen: \d+$"):
        wait_until(lambda: next(counter), 0.05, "the counter at -1", 0.01, done=lambda n: n == -1)


def test_done_returns_the_probe_value_even_when_falsy() -> None:
    values = iter([3, 2, 1, 0])
    assert wait_until(lambda: next(values), 1, "zero left", 0, done=lambda n: n == 0) == 0


def test_ignored_exceptions_count_as_not_yet_and_others_propagate() -> None:
    attempts = iter([ConnectionError("refused"), ConnectionError("refused"), "up"])

    def probe() -> str:
        value = next(attempts)
        if isinstance(value, Exception):
            raise value
        return value

    assert wait_until(probe, 1, "the server", 0, ignoring=(ConnectionError,)) == "up"
    with pytest.raises(AssertionError, match=r"last seen: ConnectionError\('refused'\)"):
        wait_until(probe_refusing, 0.05, "the server", 0.01, ignoring=(ConnectionError,))
    with pytest.raises(ConnectionError):
        wait_until(probe_refusing, 1, "the server", 0)


def probe_refusing() -> str:
    raise ConnectionError("refused")


def test_the_async_twin_awaits_coroutine_and_plain_predicates() -> None:
    values = iter([False, False, 7])

    async def probe() -> int | bool:
        return next(values)

    async def main() -> tuple[int | bool, int]:
        return (await wait_until_async(probe, 1, "seven", 0),
                await wait_until_async(lambda: 5, 1, "five", 0))

    assert asyncio.run(main()) == (7, 5)
    with pytest.raises(AssertionError, match=r"not within 0\.05 s: never; last seen: None"):
        asyncio.run(wait_until_async(lambda: None, 0.05, "never", 0.01))
