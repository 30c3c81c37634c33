"""The provider's HTTP entry points and the app factory that wires them."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apps.payment_provider.config import ProviderConfig
from apps.payment_provider.latency import LatencyModel, LatencySpecError, parse_latency_spec
from apps.payment_provider.ledger import Ledger
from apps.payment_provider.openapi import openapi_document
from apps.payment_provider.processor import Outcome, PaymentProcessor
from apps.payment_provider.validation import (
    ValidationError,
    decode_object,
    parse_authorization,
    parse_latency_change,
    parse_refund,
)

_HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed"}


class ORJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _send(outcome: Outcome) -> Response:
    return Response(outcome.body, status_code=outcome.status_code, media_type="application/json")


def _invalid(error: ValueError) -> Response:
    return _send(Outcome.error(422, "validation_error", str(error)))


class ProviderEndpoints:
    def __init__(self, processor: PaymentProcessor, ledger: Ledger, latency: LatencyModel) -> None:
        self._processor = processor
        self._ledger = ledger
        self._latency = latency

    async def health(self, request: Request) -> Response:
        return ORJSONResponse({"status": "ok"})

    async def authorize(self, request: Request) -> Response:
        try:
            command = parse_authorization(decode_object(await request.body()))
        except ValidationError as error:
            return _invalid(error)
        return _send(await self._processor.authorize(command))

    async def refund(self, request: Request) -> Response:
        try:
            command = parse_refund(decode_object(await request.body()))
        except ValidationError as error:
            return _invalid(error)
        return _send(await self._processor.refund(command))

    async def ledger(self, request: Request) -> Response:
        return ORJSONResponse(self._ledger.snapshot())

    async def change_latency(self, request: Request) -> Response:
        try:
            spec = parse_latency_change(decode_object(await request.body()))
            distribution = parse_latency_spec(spec)
        except LatencySpecError as error:
            return _invalid(ValueError(f"latency: {error}"))
        except ValidationError as error:
            return _invalid(error)
        self._latency.change(distribution)
        return ORJSONResponse({"latency": distribution.spec()})

    async def openapi(self, request: Request) -> Response:
        return ORJSONResponse(openapi_document())

    def routes(self) -> list[Route]:
        return [
            Route("/health", self.health, methods=["GET"]),
            Route("/authorizations", self.authorize, methods=["POST"]),
            Route("/refunds", self.refund, methods=["POST"]),
            Route("/ledger", self.ledger, methods=["GET"]),
            Route("/admin/latency", self.change_latency, methods=["POST"]),
            Route("/openapi.json", self.openapi, methods=["GET"], include_in_schema=False),
        ]


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_ERROR_CODES.get(exc.status_code, "http_error")
    return ORJSONResponse(
        {"error": {"code": code, "message": str(exc.detail)}},
        status_code=exc.status_code,
        headers=exc.headers,
    )


def create_app(config: ProviderConfig) -> Starlette:
    ledger = Ledger.open(config.ledger_path)
    latency = LatencyModel(config.latency, random.Random(config.seed))
    processor = PaymentProcessor(
        ledger, latency, seed=config.seed, decline_rate=config.decline_rate
    )
    endpoints = ProviderEndpoints(processor, ledger, latency)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            ledger.close()

    app = Starlette(
        routes=endpoints.routes(),
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error},
    )
    app.state.ledger = ledger
    app.state.latency = latency
    return app
