"""The HTTP contract of DESIGN.md as an OpenAPI 3.1 document, served by both architectures."""

from __future__ import annotations

from typing import Any

from apps.contract.validation import MAX_OFFSET

# Text holds any character but NUL (U+0000), which no store keeps (validation.storable).
_NO_NUL = "^[^\\u0000]*$"
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
    }},
}
_ROOM_TYPE = {
    "type": "object",
    "required": ["room_type_id", "name", "units", "nightly_rate_cents"],
    "properties": {"room_type_id": {"type": "string"}, "name": {"type": "string"},
                   "units": {"type": "integer"}, "nightly_rate_cents": {"type": "integer"}},
}
_HOTEL = {
    "type": "object",
    "required": ["hotel_id", "name", "city", "room_types"],
    "properties": {"hotel_id": {"type": "string"}, "name": {"type": "string"},
                   "city": {"type": "string"},
                   "room_types": {"type": "array", "items": {"$ref": "#/components/schemas/RoomType"}}},
}
_BOOKING = {
    "type": "object",
    "required": ["booking_id", "customer_id", "hotel_id", "room_type_id", "check_in", "nights",
                 "units", "amount_cents", "status", "reason", "created_at", "updated_at"],
    "properties": {
        "booking_id": {"type": "string"}, "customer_id": {"type": "string"},
        "hotel_id": {"type": "string"}, "room_type_id": {"type": "string"},
        "check_in": {"type": "string", "format": "date"},
        "nights": {"type": "integer", "minimum": 1, "maximum": 14},
        "units": {"type": "integer", "minimum": 1, "maximum": 5},
        "amount_cents": {"type": "integer"},
        "status": {"enum": ["pending", "confirmed", "rejected", "cancelled"]},
        "reason": {"enum": [None, "sold_out", "payment_declined"]},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}
_CREATE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["customer_id", "room_type_id", "check_in", "nights", "card_token"],
    "properties": {
        "customer_id": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": _NO_NUL},
        "room_type_id": {"type": "string"},
        "check_in": {"type": "string", "format": "date"},
        "nights": {"type": "integer", "minimum": 1, "maximum": 14},
        "units": {"type": "integer", "minimum": 1, "maximum": 5, "default": 1},
        "card_token": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": _NO_NUL},
    },
}
_AVAILABILITY = {
    "type": "object",
    "required": ["hotel_id", "check_in", "nights", "room_types"],
    "properties": {
        "hotel_id": {"type": "string"}, "check_in": {"type": "string", "format": "date"},
        "nights": {"type": "integer"},
        "room_types": {"type": "array", "items": {
            "type": "object",
            "required": ["room_type_id", "available_units", "nightly_rate_cents", "total_cents"],
            "properties": {"room_type_id": {"type": "string"},
                           "available_units": {"type": "integer"},
                           "nightly_rate_cents": {"type": "integer"},
                           "total_cents": {"type": "integer"}},
        }},
    },
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, schema: dict[str, Any], headers: dict | None = None) -> dict:
    response: dict[str, Any] = {"description": description,
                                "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def _errors(*statuses: str) -> dict[str, dict]:
    return {status: _json("error", _ref("Error")) for status in statuses}


def _param(name: str, where: str, schema: dict, required: bool = False) -> dict:
    return {"name": name, "in": where, "required": required or where == "path", "schema": schema}


_LOCATION = {"Location": {"schema": {"type": "string"}, "description": "/bookings/{id}"}}
_BOOKING_ID = _param("booking_id", "path", {"type": "string"})


def openapi_document(architecture: str) -> dict[str, Any]:
    """The contract; `architecture` only names the deployment in the title."""
    return {
        "openapi": "3.1.0",
        "info": {"title": f"archbench hotel booking ({architecture})", "version": "1"},
        "paths": {
            "/health": {"get": {"operationId": "health", "responses": {"200": _json("ok", {
                "type": "object", "required": ["status", "architecture"],
                "properties": {"status": {"const": "ok"},
                               "architecture": {"enum": ["monolith", "microservices"]}}})}}},
            "/hotels": {"get": {
                "operationId": "listHotels",
                "parameters": [
                    _param("city", "query", {"type": "string", "pattern": _NO_NUL}),
                    _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 100}),
                    _param("offset", "query", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}),
                ],
                "responses": {"200": _json("hotels", {
                    "type": "object", "required": ["hotels"],
                    "properties": {"hotels": {"type": "array", "items": _ref("Hotel")}}}),
                    **_errors("422")},
            }},
            "/availability": {"get": {
                "operationId": "checkAvailability",
                "parameters": [
                    _param("hotel_id", "query", {"type": "string"}, True),
                    _param("check_in", "query", {"type": "string", "format": "date"}, True),
                    _param("nights", "query", {"type": "integer", "minimum": 1, "maximum": 14},
                           True),
                ],
                "responses": {"200": _json("availability", _ref("Availability")),
                              **_errors("404", "422")},
            }},
            "/bookings": {"post": {
                "operationId": "createBooking",
                "parameters": [_param("Idempotency-Key", "header", {
                    "type": "string", "minLength": 1, "maxLength": 128, "pattern": _NO_NUL})],
                "requestBody": {"required": True,
                                "content": {"application/json": {"schema": _ref("CreateBooking")}}},
                "responses": {
                    "201": _json("outcome known", _ref("Booking"), _LOCATION),
                    "202": _json("pending", _ref("Booking"), _LOCATION),
                    **_errors("409", "422"),
                },
            }},
            "/bookings/{booking_id}": {"get": {
                "operationId": "getBooking", "parameters": [_BOOKING_ID],
                "responses": {"200": _json("booking", _ref("Booking")), **_errors("404")},
            }},
            "/bookings/{booking_id}/cancel": {"post": {
                "operationId": "cancelBooking", "parameters": [_BOOKING_ID],
                "responses": {"200": _json("cancelled", _ref("Booking")),
                              **_errors("404", "409")},
            }},
            "/customers/{customer_id}/bookings": {"get": {
                "operationId": "customerBookings",
                "parameters": [_param("customer_id", "path", {"type": "string"})],
                "responses": {"200": _json("bookings, newest first", {
                    "type": "object", "required": ["bookings"],
                    "properties": {"bookings": {"type": "array", "items": _ref("Booking")}}})},
            }},
        },
        "components": {"schemas": {
            "Error": _ERROR, "RoomType": _ROOM_TYPE, "Hotel": _HOTEL, "Booking": _BOOKING,
            "CreateBooking": _CREATE, "Availability": _AVAILABILITY,
        }},
    }
