"""HTTP entry points of the monolith: parse, hand to the service or the shared reads, answer JSON."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from apps.booking.lifecycle import BookingStatus
from apps.contract.openapi import openapi_document
from apps.contract.validation import (
    parse_booking_id,
    parse_check_availability,
    parse_create_booking,
    parse_idempotency_key,
    parse_list_hotels,
    storable,
)
from apps.monolith.service import BookingService
from apps.platform import catalog, inventory
from apps.platform.http import JSON, json_body


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
        return JSON(await inventory.availability(conn, service.catalog, query))


async def create_booking(request: Request) -> JSON:
    service = _service(request)
    body = await json_body(request)
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
