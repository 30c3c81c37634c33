"""Validation of request bodies into frozen request values."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

import orjson

MAX_TEXT = 128


class ValidationError(ValueError):
    """A request body that does not match its schema; the message names the field."""


@dataclass(frozen=True)
class AuthorizationRequest:
    idempotency_key: str
    booking_id: str
    amount_cents: int
    card_token: str

    def fingerprint(self) -> str:
        return _fingerprint(self)


@dataclass(frozen=True)
class RefundRequest:
    idempotency_key: str
    authorization_id: str
    amount_cents: int

    def fingerprint(self) -> str:
        return _fingerprint(self)


def _fingerprint(request: AuthorizationRequest | RefundRequest) -> str:
    canonical = orjson.dumps(asdict(request), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def decode_object(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ValidationError("body: malformed JSON") from None
    if not isinstance(body, dict):
        raise ValidationError("body: must be a JSON object")
    return body


def parse_authorization(body: dict[str, Any]) -> AuthorizationRequest:
    _exact_fields(body, ("idempotency_key", "booking_id", "amount_cents", "card_token"))
    return AuthorizationRequest(
        idempotency_key=_text(body, "idempotency_key"),
        booking_id=_text(body, "booking_id"),
        amount_cents=_positive_int(body, "amount_cents"),
        card_token=_text(body, "card_token"),
    )


def parse_refund(body: dict[str, Any]) -> RefundRequest:
    _exact_fields(body, ("idempotency_key", "authorization_id", "amount_cents"))
    return RefundRequest(
        idempotency_key=_text(body, "idempotency_key"),
        authorization_id=_text(body, "authorization_id"),
        amount_cents=_positive_int(body, "amount_cents"),
    )


def parse_latency_change(body: dict[str, Any]) -> str:
    _exact_fields(body, ("latency",))
    value = body["latency"]
    if not isinstance(value, str):
        raise ValidationError("latency: must be a string")
    return value


def _exact_fields(body: dict[str, Any], expected: tuple[str, ...]) -> None:
    unknown = sorted(set(body) - set(expected))
    if unknown:
        raise ValidationError(f"{unknown[0]}: unknown field")
    for name in expected:
        if name not in body:
            raise ValidationError(f"{name}: field required")


def _text(body: dict[str, Any], name: str) -> str:
    value = body[name]
    if not isinstance(value, str):
        raise ValidationError(f"{name}: must be a string")
    if not 1 <= len(value) <= MAX_TEXT:
        raise ValidationError(f"{name}: length must be 1..{MAX_TEXT}")
    return value


def _positive_int(body: dict[str, Any], name: str) -> int:
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name}: must be an integer")
    if value <= 0:
        raise ValidationError(f"{name}: must be greater than 0")
    return value
