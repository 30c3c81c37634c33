"""HTTP entry points of the monolith: parse, hand to the service, map domain errors to statuses."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from apps.booking.errors import DomainError, ValidationError
from apps.booking.lifecycle import BookingStatus
from apps.booking.openapi import openapi_document
from apps.booking.validation import (
    parse_booking_id,
    parse_check_availability,
    parse_create_booking,
    parse_idempotency_key,
    parse_list_hotels,
    storable,
)
from apps.monolith import catalog
from apps.monolith.service import BookingService

_STATUS = {
    "validation_error": 422,
    "not_found": 404,
    "idempotency_conflict": 409,
    "not_cancellable": 409,
}


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error(status: int, code: str, message: str) -> JSON:
    return JSON({"error": {"code": code, "message": message}}, status_code=status)


def _service(request: Request) -> BookingService:
    return request.app.state.service


async def health(request: Request) -> JSON:
    return JSON({"status": "ok", "architecture": "monolith"})


async def list_hotels(request: Request) -> JSON:
    query = parse_list_hotels(request.query_params)
    async with _service(request).pool.acquire() as conn:
        return JSON({"hotels": await catalog.list_hotels(conn, query)})


async def availability(request: Request) -> JSON:
    service = _service(request)
    query = parse_check_availability(request.query_params, service.catalog)
    async with service.pool.acquire() as conn:
        return JSON(await catalog.availability(conn, service.catalog, query))


async def create_booking(request: Request) -> JSON:
    service = _service(request)
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"body: malformed JSON ({exc})") from None
    key = parse_idempotency_key(request.headers.get("idempotency-key"))
    command = parse_create_booking(body, service.catalog)
    booking = await service.create(command, key)
    status = 202 if booking.status is BookingStatus.PENDING else 201
    return JSON(booking.to_dict(), status_code=status,
                headers={"Location": f"/bookings/{booking.booking_id}"})


async def get_booking(request: Request) -> JSON:
    booking = await _service(request).get(parse_booking_id(request.path_params["booking_id"]))
    return JSON(booking.to_dict())


async def cancel_booking(request: Request) -> JSON:
    booking = await _service(request).cancel(parse_booking_id(request.path_params["booking_id"]))
    return JSON(booking.to_dict())


async def customer_bookings(request: Request) -> JSON:
    customer_id = request.path_params["customer_id"]
    found = await _service(request).for_customer(customer_id) if storable(customer_id) else []
    return JSON({"bookings": [b.to_dict() for b in found]})


async def openapi(request: Request) -> JSON:
    return JSON(openapi_document("monolith"))


async def on_domain_error(request: Request, exc: Exception) -> JSON:
    assert isinstance(exc, DomainError)
    return error(_STATUS.get(exc.code, 422), exc.code, exc.message)


async def on_http_error(request: Request, exc: Exception) -> JSON:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return error(exc.status_code, code, str(exc.detail))


async def on_unexpected(request: Request, exc: Exception) -> JSON:
    return error(500, "internal_error", "internal error; see the server log")


ROUTES = [
    Route("/health", health, methods=["GET"]),
    Route("/openapi.json", openapi, methods=["GET"]),
    Route("/hotels", list_hotels, methods=["GET"]),
    Route("/availability", availability, methods=["GET"]),
    Route("/bookings", create_booking, methods=["POST"]),
    Route("/bookings/{booking_id}", get_booking, methods=["GET"]),
    Route("/bookings/{booking_id}/cancel", cancel_booking, methods=["POST"]),
    Route("/customers/{customer_id}/bookings", customer_bookings, methods=["GET"]),
]
EXCEPTION_HANDLERS = {
    DomainError: on_domain_error,
    HTTPException: on_http_error,
    Exception: on_unexpected,
}
