"""HTTP pieces every app serves with: orjson responses, the contract's error body, error mapping."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from apps.booking.errors import DomainError, ValidationError
from apps.contract.errors import STATUS_OF_CODE


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error(status: int, code: str, message: str) -> JSON:
    return JSON({"error": {"code": code, "message": message}}, status_code=status)


async def json_body(request: Request) -> Any:
    """The decoded body; malformed JSON is the contract's validation error, not a 500."""
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"body: malformed JSON ({exc})") from None


async def on_domain_error(request: Request, exc: Exception) -> JSON:
    assert isinstance(exc, DomainError)
    return error(STATUS_OF_CODE.get(exc.code, 422), exc.code, exc.message)


async def on_http_error(request: Request, exc: Exception) -> JSON:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return error(exc.status_code, code, str(exc.detail))


async def on_unexpected(request: Request, exc: Exception) -> JSON:
    return error(500, "internal_error", "internal error; see the server log")


EXCEPTION_HANDLERS = {
    DomainError: on_domain_error,
    HTTPException: on_http_error,
    Exception: on_unexpected,
}
