"""The provider's OpenAPI 3.1 document, written by hand to match validation.py and processor.py."""

from __future__ import annotations

from typing import Any

from apps.payment_provider.latency import SPEC_FORMS
from apps.payment_provider.validation import MAX_TEXT


def _text(description: str) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": MAX_TEXT, "description": description}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: tuple[str, str]) -> dict[str, Any]:
    return {status: _json(_ref("Error"), why) for status, why in statuses}


def openapi_document() -> dict[str, Any]:
    amount = {"type": "integer", "minimum": 1, "description": "Amount in cents"}
    timestamp = {"type": "string", "format": "date-time", "description": "ISO-8601 UTC"}
    schemas: dict[str, Any] = {
        "AuthorizationRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["idempotency_key", "booking_id", "amount_cents", "card_token"],
            "properties": {
                "idempotency_key": _text("Same key and body: same answer, nothing new recorded"),
                "booking_id": _text("The booking paid for; drives the seeded decline draw"),
                "amount_cents": amount,
                "card_token": _text('"tok_decline" is always declined'),
            },
        },
        "Authorization": {
            "type": "object",
            "required": [
                "authorization_id",
                "idempotency_key",
                "booking_id",
                "amount_cents",
                "status",
                "created_at",
            ],
            "properties": {
                "authorization_id": {"type": "string"},
                "idempotency_key": {"type": "string"},
                "booking_id": {"type": "string"},
                "amount_cents": amount,
                "status": {"type": "string", "enum": ["approved", "declined"]},
                "created_at": timestamp,
            },
        },
        "RefundRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["idempotency_key", "authorization_id", "amount_cents"],
            "properties": {
                "idempotency_key": _text("Same key and body: same answer, nothing new recorded"),
                "authorization_id": _text("An approved authorization"),
                "amount_cents": amount,
            },
        },
        "Refund": {
            "type": "object",
            "required": [
                "refund_id",
                "idempotency_key",
                "authorization_id",
                "amount_cents",
                "status",
                "created_at",
            ],
            "properties": {
                "refund_id": {"type": "string"},
                "idempotency_key": {"type": "string"},
                "authorization_id": {"type": "string"},
                "amount_cents": amount,
                "status": {"type": "string", "enum": ["refunded"]},
                "created_at": timestamp,
            },
        },
        "Ledger": {
            "type": "object",
            "required": ["authorizations", "refunds"],
            "properties": {
                "authorizations": {"type": "array", "items": _ref("Authorization")},
                "refunds": {"type": "array", "items": _ref("Refund")},
            },
        },
        "LatencyChange": {
            "type": "object",
            "additionalProperties": False,
            "required": ["latency"],
            "properties": {"latency": {"type": "string", "description": SPEC_FORMS}},
        },
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {
                            "type": "string",
                            "enum": [
                                "validation_error",
                                "idempotency_conflict",
                                "not_found",
                                "not_refundable",
                                "method_not_allowed",
                            ],
                        },
                        "message": {"type": "string"},
                    },
                }
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "archbench payment provider",
            "version": "1.0.0",
            "description": "Simulated external card processor with seeded latency and declines.",
        },
        "paths": {
            "/health": {
                "get": {
                    "summary": "Liveness",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"status": {"type": "string", "enum": ["ok"]}},
                            },
                            "The provider is up",
                        )
                    },
                }
            },
            "/authorizations": {
                "post": {
                    "summary": "Authorize a card payment (idempotent by key)",
                    "requestBody": {"required": True, **_json(_ref("AuthorizationRequest"), "")},
                    "responses": {
                        "200": _json(_ref("Authorization"), "Approved or declined"),
                        **_errors(
                            ("409", "idempotency_conflict: key reused with another body"),
                            ("422", "validation_error"),
                        ),
                    },
                }
            },
            "/refunds": {
                "post": {
                    "summary": "Refund all or part of an approved authorization (idempotent)",
                    "requestBody": {"required": True, **_json(_ref("RefundRequest"), "")},
                    "responses": {
                        "200": _json(_ref("Refund"), "Refunded"),
                        **_errors(
                            ("404", "not_found: unknown authorization"),
                            ("409", "idempotency_conflict or not_refundable"),
                            ("422", "validation_error"),
                        ),
                    },
                }
            },
            "/ledger": {
                "get": {
                    "summary": "Every authorization and refund, in creation order",
                    "responses": {"200": _json(_ref("Ledger"), "The ledger")},
                }
            },
            "/admin/latency": {
                "post": {
                    "summary": "Change the latency distribution at run time",
                    "requestBody": {"required": True, **_json(_ref("LatencyChange"), "")},
                    "responses": {
                        "200": _json(_ref("LatencyChange"), "The distribution now in force"),
                        **_errors(("422", "validation_error: bad spec")),
                    },
                }
            },
        },
        "components": {"schemas": schemas},
    }
