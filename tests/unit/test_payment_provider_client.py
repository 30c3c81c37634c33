"""PaymentClient maps answers to values, 4xx to rejections and failures to retryable errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from apps.payment_provider.app import create_app
from apps.payment_provider.client import (
    Authorization,
    AuthorizationNotFound,
    IdempotencyConflict,
    NotRefundable,
    PaymentClient,
    PaymentProviderError,
    PaymentRejected,
    Refund,
)
from apps.payment_provider.config import ProviderConfig
from apps.payment_provider.latency import NoLatency


def _with_provider(scenario: Callable[[PaymentClient], Awaitable[None]]) -> None:
    app = create_app(ProviderConfig(latency=NoLatency()))

    async def run() -> None:
        async with PaymentClient(
            "http://provider", transport=httpx.ASGITransport(app=app)
        ) as client:
            await scenario(client)

    asyncio.run(run())


def test_an_approved_authorization_and_its_refund() -> None:
    async def scenario(client: PaymentClient) -> None:
        auth = await client.authorize("k1", "booking-1", 12_000, "tok_visa")
        assert isinstance(auth, Authorization)
        assert auth.approved
        assert auth.amount_cents == 12_000
        refund = await client.refund("r1", auth.authorization_id, 12_000)
        assert refund == Refund(refund.refund_id, auth.authorization_id, 12_000)
        again = await client.refund("r1", auth.authorization_id, 12_000)
        assert again == refund
        ledger = await client.ledger()
        assert len(ledger["authorizations"]) == 1
        assert len(ledger["refunds"]) == 1

    _with_provider(scenario)


def test_a_declined_card_is_an_answer_not_an_error() -> None:
    async def scenario(client: PaymentClient) -> None:
        auth = await client.authorize("k1", "booking-1", 100, "tok_decline")
        assert not auth.approved

    _with_provider(scenario)


def test_rejections_carry_the_provider_error_code() -> None:
    async def scenario(client: PaymentClient) -> None:
        auth = await client.authorize("k1", "booking-1", 100, "tok_visa")
        with pytest.raises(IdempotencyConflict) as conflict:
            await client.authorize("k1", "booking-1", 200, "tok_visa")
        assert (conflict.value.status_code, conflict.value.code) == (409, "idempotency_conflict")
        with pytest.raises(AuthorizationNotFound):
            await client.refund("r1", "auth_nope", 100)
        with pytest.raises(NotRefundable):
            await client.refund("r2", auth.authorization_id, 101)
        with pytest.raises(PaymentRejected) as invalid:
            await client.authorize("", "booking-1", 100, "tok_visa")
        assert invalid.value.code == "validation_error"
        assert "idempotency_key" in invalid.value.message

    _with_provider(scenario)


def _client_answering(handler: Callable[[httpx.Request], httpx.Response]) -> PaymentClient:
    return PaymentClient("http://provider", transport=httpx.MockTransport(handler))


def test_a_server_error_is_retryable() -> None:
    async def scenario() -> None:
        async with _client_answering(lambda request: httpx.Response(503, text="busy")) as client:
            with pytest.raises(PaymentProviderError, match="503"):
                await client.authorize("k1", "b1", 100, "tok_visa")

    asyncio.run(scenario())


def test_a_transport_failure_is_retryable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async def scenario() -> None:
        async with _client_answering(refuse) as client:
            with pytest.raises(PaymentProviderError, match="ConnectError"):
                await client.refund("r1", "auth_1", 100)

    asyncio.run(scenario())


def test_a_garbled_success_is_retryable() -> None:
    async def scenario() -> None:
        async with _client_answering(lambda request: httpx.Response(200, text="<html>")) as client:
            with pytest.raises(PaymentProviderError):
                await client.authorize("k1", "b1", 100, "tok_visa")
        async with _client_answering(lambda request: httpx.Response(200, json={})) as client:
            with pytest.raises(PaymentProviderError):
                await client.authorize("k1", "b1", 100, "tok_visa")

    asyncio.run(scenario())


def test_a_rejection_is_not_a_provider_error() -> None:
    assert not issubclass(PaymentRejected, PaymentProviderError)
