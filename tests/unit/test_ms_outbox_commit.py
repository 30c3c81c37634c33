"""What a handler's transaction hands to the outbox relay, with a fake connection: its rows once
it has committed, nothing when it rolled back, and a rescan when the commit itself failed (it
may have happened all the same)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from apps.microservices.common.consumer import Tx
from apps.microservices.common.relay import Outgoing

ROW = Outgoing(7, "booking.events.BookingConfirmed", "e7", b"{}")


@dataclass
class FakeTransaction:
    commit_error: BaseException | None

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, kind: Any, error: Any, tb: Any) -> bool:
        if kind is None and self.commit_error is not None:
            raise self.commit_error
        return False


@dataclass
class FakeConnection:
    commit_error: BaseException | None = None

    def transaction(self) -> FakeTransaction:
        return FakeTransaction(self.commit_error)


@dataclass
class FakeRelay:
    handed: list[Outgoing] = field(default_factory=list)
    rescans: int = 0

    def committed(self, rows: list[Outgoing]) -> None:
        self.handed += rows

    def rescan(self) -> None:
        self.rescans += 1


async def _run(conn: FakeConnection, relay: FakeRelay, body_error: BaseException | None = None,
               writes: bool = True) -> None:
    tx = Tx(conn, "booking", None)  # type: ignore[arg-type]
    async with tx.committing(relay) as open_tx:  # type: ignore[arg-type]
        if writes:
            open_tx.outgoing.append(ROW)
        if body_error is not None:
            raise body_error


def test_rows_go_to_the_relay_once_committed() -> None:
    relay = FakeRelay()
    asyncio.run(_run(FakeConnection(), relay))
    assert relay.handed == [ROW] and relay.rescans == 0


def test_a_rolled_back_transaction_hands_over_nothing() -> None:
    relay = FakeRelay()
    with pytest.raises(ValueError):
        asyncio.run(_run(FakeConnection(), relay, body_error=ValueError("handler failed")))
    assert relay.handed == [] and relay.rescans == 0


@pytest.mark.parametrize("error", [ConnectionResetError("gone during COMMIT"),
                                   asyncio.CancelledError()])
def test_a_failed_commit_has_the_relay_read_the_table_again(error: BaseException) -> None:
    relay = FakeRelay()
    with pytest.raises(type(error)):
        asyncio.run(_run(FakeConnection(commit_error=error), relay))
    assert relay.handed == [] and relay.rescans == 1


def test_a_failed_commit_without_outbox_rows_needs_no_rescan() -> None:
    relay = FakeRelay()
    with pytest.raises(ConnectionResetError):
        asyncio.run(_run(FakeConnection(commit_error=ConnectionResetError()), relay, writes=False))
    assert relay.rescans == 0
