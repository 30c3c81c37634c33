"""The consumer's in-process dispatch, with fake messages: events of one aggregate are handled in
stream order, one at a time; events of different aggregates at once, up to the concurrency; a
failing handler is retried in place and nothing of its aggregate overtakes it; each event is
acked once, after it was handled."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from apps.microservices.common import consumer as consumer_module
from apps.microservices.common.consumer import ConsumerLoop, Subscription, Work
from apps.microservices.common.envelope import Envelope


@dataclass
class FakeMsg:
    """What the loop uses of a JetStream message: its data, stream sequence and ack."""

    data: bytes
    seq: int
    acks: list[int] = field(default_factory=list)

    @property
    def metadata(self) -> SimpleNamespace:
        return SimpleNamespace(sequence=SimpleNamespace(stream=self.seq))

    async def ack(self) -> None:
        self.acks.append(self.seq)

    async def in_progress(self) -> None:
        pass


def _envelope(seq: int, key: str) -> Envelope:
    return Envelope(event_id=f"e{seq}", type="BookingConfirmed", aggregate_id=key, sequence=seq,
                    occurred_at=datetime(2027, 1, 1, tzinfo=UTC), correlation_id=f"e{seq}",
                    causation_id=None, payload={})


def _loop(handler, concurrency: int) -> ConsumerLoop:  # type: ignore[no-untyped-def]
    sub = Subscription("booking", ["BookingConfirmed"], handler, concurrency=concurrency)
    return ConsumerLoop("test", sub, pool=None, nc=None, js=None, relay=None)  # type: ignore[arg-type]


async def _deliver(loop: ConsumerLoop, messages: list[FakeMsg]) -> None:
    for msg in messages:
        held = await loop._hold(msg)
        assert held is not None
        loop._to_lane(held)
    while loop.tasks:
        await asyncio.gather(*list(loop.tasks))


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consumer_module, "RETRY_FIRST_S", 0.0)


def test_one_aggregate_in_order_many_at_once_each_acked_once(no_backoff: None) -> None:
    rng = random.Random(7)
    keys = [f"b{rng.randrange(12)}" for _ in range(300)]
    acks: list[int] = []
    messages = [FakeMsg(_envelope(i, k).to_bytes(), i, acks) for i, k in enumerate(keys)]
    seen: dict[str, list[int]] = {}
    running = {"now": 0, "most": 0}

    async def handler(envelope: Envelope, work: Work) -> None:
        running["now"] += 1
        running["most"] = max(running["most"], running["now"])
        await asyncio.sleep(rng.random() / 1000)
        seen.setdefault(envelope.aggregate_id, []).append(envelope.sequence)
        running["now"] -= 1

    loop = _loop(handler, concurrency=4)
    asyncio.run(_deliver(loop, messages))

    for key, sequences in seen.items():
        assert sequences == [i for i, k in enumerate(keys) if k == key]
    assert 1 < running["most"] <= 4
    assert sorted(acks) == list(range(300))
    assert loop.handled == 300 and not loop.held and not loop.lanes


def test_a_failing_event_is_retried_and_holds_back_only_its_own_aggregate(
        no_backoff: None) -> None:
    order: list[int] = []
    failures = {"left": 3}
    acks: list[int] = []

    async def handler(envelope: Envelope, work: Work) -> None:
        if envelope.sequence == 0 and failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("database unavailable")
        order.append(envelope.sequence)

    messages = [FakeMsg(_envelope(i, k).to_bytes(), i, acks)
                for i, k in enumerate(["a", "a", "b", "a", "b"])]
    asyncio.run(_deliver(_loop(handler, concurrency=2), messages))

    assert failures["left"] == 0
    assert [s for s in order if s in (0, 1, 3)] == [0, 1, 3]  # a's events, in order, 0 first
    assert order.index(2) < order.index(0)  # b went ahead while a's first event was failing
    assert sorted(acks) == [0, 1, 2, 3, 4]


def test_an_unreadable_message_is_terminated_not_held() -> None:
    terminated: list[int] = []

    class Unreadable(FakeMsg):
        async def term(self) -> None:
            terminated.append(self.seq)

    async def handler(envelope: Envelope, work: Work) -> None:
        raise AssertionError("never called")

    loop = _loop(handler, concurrency=1)
    held = asyncio.run(loop._hold(Unreadable(b"not json", 5)))

    assert held is None and terminated == [5] and not loop.held


def test_a_subscription_takes_a_handler_or_a_batch_handler_not_both() -> None:
    async def handler(envelope: Envelope, work: Work) -> None:
        pass

    async def batch(conn: object, envelopes: list[Envelope]) -> None:
        pass

    with pytest.raises(ValueError, match="either"):
        Subscription("booking", ["BookingConfirmed"])
    with pytest.raises(ValueError, match="either"):
        Subscription("booking", ["BookingConfirmed"], handler, apply_batch=batch)  # type: ignore[arg-type]
