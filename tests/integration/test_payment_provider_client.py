"""PaymentClient over real sockets: answers map to values, 4xx to rejections, failures to retryable errors."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

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

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def _serving(app: ASGIApp) -> AsyncIterator[str]:
    """`app` on a real socket of 127.0.0.1 (the client speaks HTTP, nothing in process)."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def _against(app: ASGIApp, scenario: Callable[[PaymentClient], Awaitable[None]],
             timeout: float = 5.0) -> None:
    """Run `scenario` with a client of `app` served on a real socket."""

    async def run() -> None:
        async with _serving(app) as url, PaymentClient(url, timeout=timeout) as client:
            await scenario(client)

    asyncio.run(run())


def _with_provider(scenario: Callable[[PaymentClient], Awaitable[None]]) -> None:
    _against(create_app(ProviderConfig(latency=NoLatency())), scenario)


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


def _answering(status: int, body: bytes, media_type: str = "text/plain") -> Starlette:
    """A stand-in provider that gives every request the same answer."""

    async def answer(request: Request) -> Response:
        return Response(body, status_code=status, media_type=media_type)

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])


def test_a_server_error_is_retryable() -> None:
    async def scenario(client: PaymentClient) -> None:
        with pytest.raises(PaymentProviderError, match="503"):
            await client.authorize("k1", "b1", 100, "tok_visa")

    _against(_answering(503, b"busy"), scenario)


def test_a_transport_failure_is_retryable() -> None:
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def scenario() -> None:
        async with PaymentClient(f"http://127.0.0.1:{port}") as client:
            with pytest.raises(PaymentProviderError, match="ClientConnectorError"):
                await client.refund("r1", "auth_1", 100)

    asyncio.run(scenario())


def test_a_garbled_success_is_retryable() -> None:
    async def scenario(client: PaymentClient) -> None:
        with pytest.raises(PaymentProviderError, match="non-JSON"):
            await client.authorize("k1", "b1", 100, "tok_visa")

    _against(_answering(200, b"<html>", "text/html"), scenario)

    async def incomplete(client: PaymentClient) -> None:
        with pytest.raises(PaymentProviderError, match="unexpected authorization answer"):
            await client.authorize("k1", "b1", 100, "tok_visa")

    _against(_answering(200, b"{}", "application/json"), incomplete)


def test_a_4xx_without_json_is_a_rejection() -> None:
    async def scenario(client: PaymentClient) -> None:
        with pytest.raises(PaymentRejected) as rejected:
            await client.authorize("k1", "b1", 100, "tok_visa")
        assert (rejected.value.status_code, rejected.value.code) == (418, "unknown")
        assert rejected.value.message == "teapot"

    _against(_answering(418, b"teapot"), scenario)


def test_a_provider_that_does_not_answer_in_time_is_retryable() -> None:
    async def stall(request: Request) -> Response:
        await asyncio.sleep(1)  # past the client's timeout; the server waits for it to stop
        return Response(b"{}", media_type="application/json")

    async def scenario(client: PaymentClient) -> None:
        with pytest.raises(PaymentProviderError, match="Timeout"):
            await client.authorize("k1", "b1", 100, "tok_visa")

    _against(Starlette(routes=[Route("/{path:path}", stall, methods=["POST"])]), scenario,
             timeout=0.2)


def test_a_rejection_is_not_a_provider_error() -> None:
    assert not issubclass(PaymentRejected, PaymentProviderError)


def test_a_closed_client_refuses_to_send() -> None:
    async def scenario(client: PaymentClient) -> None:
        await client.aclose()
        with pytest.raises(RuntimeError, match="closed"):
            await client.authorize("k1", "b1", 100, "tok_visa")

    _with_provider(scenario)
