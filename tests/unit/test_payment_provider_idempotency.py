"""Concurrent retries with one key share the first attempt: one answer, one ledger record."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest

from apps.payment_provider.app import create_app
from apps.payment_provider.config import ProviderConfig
from apps.payment_provider.latency import FixedLatency, LatencyModel
from apps.payment_provider.ledger import Ledger
from apps.payment_provider.processor import PaymentProcessor
from apps.payment_provider.validation import AuthorizationRequest, RefundRequest

LATENCY = 0.05


def _http(latency: float = LATENCY) -> httpx.AsyncClient:
    app = create_app(ProviderConfig(latency=FixedLatency(latency)))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://provider")


def _body(key: str = "k", amount: int = 500) -> dict[str, object]:
    return {
        "idempotency_key": key,
        "booking_id": "booking-1",
        "amount_cents": amount,
        "card_token": "tok_visa",
    }


def test_concurrent_retries_get_identical_answers_and_one_record() -> None:
    async def scenario() -> None:
        async with _http() as http:
            responses = await asyncio.gather(
                *(http.post("/authorizations", json=_body()) for _ in range(20))
            )
            assert {r.status_code for r in responses} == {200}
            assert len({r.content for r in responses}) == 1
            ledger = (await http.get("/ledger")).json()
            assert len(ledger["authorizations"]) == 1

    asyncio.run(scenario())


def test_a_different_body_while_the_first_is_in_flight_is_a_conflict() -> None:
    async def scenario() -> None:
        async with _http() as http:
            first = asyncio.create_task(http.post("/authorizations", json=_body()))
            await asyncio.sleep(LATENCY / 5)
            conflict = await http.post("/authorizations", json=_body(amount=501))
            assert conflict.status_code == 409
            assert conflict.json()["error"]["code"] == "idempotency_conflict"
            assert (await first).status_code == 200
            assert len((await http.get("/ledger")).json()["authorizations"]) == 1

    asyncio.run(scenario())


def test_concurrent_refunds_under_different_keys_never_overdraw() -> None:
    async def scenario() -> None:
        async with _http() as http:
            auth = (await http.post("/authorizations", json=_body(amount=1_000))).json()
            responses = await asyncio.gather(
                *(
                    http.post(
                        "/refunds",
                        json={
                            "idempotency_key": f"r{i}",
                            "authorization_id": auth["authorization_id"],
                            "amount_cents": 300,
                        },
                    )
                    for i in range(10)
                )
            )
            assert sorted(r.status_code for r in responses) == [200] * 3 + [409] * 7
            refunds = (await http.get("/ledger")).json()["refunds"]
            assert sum(r["amount_cents"] for r in refunds) == 900

    asyncio.run(scenario())


def _processor(ledger: Ledger) -> PaymentProcessor:
    latency = LatencyModel(FixedLatency(LATENCY), random.Random(0))
    return PaymentProcessor(ledger, latency, seed=0, decline_rate=0.0)


def test_a_caller_that_goes_away_does_not_abandon_the_attempt() -> None:
    async def scenario() -> None:
        ledger = Ledger()
        processor = _processor(ledger)
        request = AuthorizationRequest("k", "booking-1", 500, "tok_visa")
        impatient = asyncio.create_task(processor.authorize(request))
        await asyncio.sleep(LATENCY / 5)
        impatient.cancel()
        with pytest.raises(asyncio.CancelledError):
            await impatient
        retry = await processor.authorize(request)
        assert retry.status_code == 200
        assert len(ledger.snapshot()["authorizations"]) == 1

    asyncio.run(scenario())


def test_a_failed_refund_is_not_remembered_so_a_later_retry_can_succeed() -> None:
    async def scenario() -> None:
        ledger = Ledger()
        processor = _processor(ledger)
        refund = RefundRequest("r", "auth_future", 100)
        assert (await processor.refund(refund)).status_code == 404
        assert ledger.snapshot()["refunds"] == []

    asyncio.run(scenario())
