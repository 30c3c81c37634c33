"""Async HTTP client for the payment provider, shared by both architectures.

Errors split by what the caller should do: `PaymentProviderError` (transport failure, timeout,
5xx, garbled answer) means "try again later with the same idempotency key"; `PaymentRejected`
(4xx) means the request itself is wrong and retrying it will not help.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp
import orjson

_JSON = {"Content-Type": "application/json"}
#: How long an idle connection to the provider is kept: under uvicorn's keep-alive timeout (5 s).
KEEPALIVE_S = 4.0


class PaymentError(Exception):
    """Base of the client's errors."""


class PaymentProviderError(PaymentError):
    """The provider could not be reached or failed (5xx); retry later with the same key."""


class PaymentRejected(PaymentError):
    """The provider refused the request (4xx); `code` is its error code."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(f"{status_code} {code}: {message}")
        self.status_code = status_code
        self.code = code
        self.message = message


class IdempotencyConflict(PaymentRejected):
    """The idempotency key was already used with a different body."""


class AuthorizationNotFound(PaymentRejected):
    """The refund names an authorization the provider does not know."""


class NotRefundable(PaymentRejected):
    """The authorization was declined, or the amount exceeds what is left to refund."""


_REJECTIONS: dict[str, type[PaymentRejected]] = {
    "idempotency_conflict": IdempotencyConflict,
    "not_found": AuthorizationNotFound,
    "not_refundable": NotRefundable,
}


@dataclass(frozen=True)
class Authorization:
    authorization_id: str
    approved: bool
    amount_cents: int


@dataclass(frozen=True)
class Refund:
    refund_id: str
    authorization_id: str
    amount_cents: int


class PaymentClient:
    """One pooled aiohttp session; build one per process and close it with `aclose()`.

    aiohttp, not httpx: one call costs about a third of httpx's client CPU here (sequential calls
    against the provider, benchmarks/README), and both architectures make one per booking. The
    session is opened on first use, inside the running event loop. `timeout` bounds each phase
    (getting a connection, and each wait for the answer), as httpx's did, not the whole call.
    """

    def __init__(self, base_url: str, *, timeout: float = 5.0, max_connections: int = 100) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=None, connect=timeout, sock_read=timeout)
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    async def authorize(
        self, idempotency_key: str, booking_id: str, amount_cents: int, card_token: str
    ) -> Authorization:
        body = await self._request(
            "POST",
            "/authorizations",
            {
                "idempotency_key": idempotency_key,
                "booking_id": booking_id,
                "amount_cents": amount_cents,
                "card_token": card_token,
            },
        )
        try:
            return Authorization(
                authorization_id=str(body["authorization_id"]),
                approved=body["status"] == "approved",
                amount_cents=int(body["amount_cents"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise PaymentProviderError(f"unexpected authorization answer: {body!r}") from error

    async def refund(
        self, idempotency_key: str, authorization_id: str, amount_cents: int
    ) -> Refund:
        body = await self._request(
            "POST",
            "/refunds",
            {
                "idempotency_key": idempotency_key,
                "authorization_id": authorization_id,
                "amount_cents": amount_cents,
            },
        )
        try:
            return Refund(
                refund_id=str(body["refund_id"]),
                authorization_id=str(body["authorization_id"]),
                amount_cents=int(body["amount_cents"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise PaymentProviderError(f"unexpected refund answer: {body!r}") from error

    async def ledger(self) -> dict[str, Any]:
        return await self._request("GET", "/ledger")

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _request(
        self, method: str, path: str, payload: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        if self._closed:
            raise RuntimeError("the payment client is closed")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                # idle connections are given up before the provider's uvicorn closes them (5 s):
                # a POST sent on a connection the server is closing fails, and is not retried
                connector=aiohttp.TCPConnector(limit=self._max_connections,
                                               keepalive_timeout=KEEPALIVE_S),
            )
        data = orjson.dumps(payload) if payload is not None else None
        try:
            async with self._session.request(method, self._base_url + path, data=data,
                                             headers=_JSON if data is not None else None,
                                             allow_redirects=False) as response:
                status, raw = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise PaymentProviderError(
                f"{method} {path}: {type(error).__name__}: {error}"
            ) from error
        if status >= 500:
            raise PaymentProviderError(f"{method} {path}: HTTP {status}")
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            if status >= 400:
                raise PaymentRejected(
                    status, "unknown", raw[:200].decode(errors="replace")
                ) from error
            raise PaymentProviderError(
                f"{method} {path}: HTTP {status} with a non-JSON body"
            ) from error
        if status >= 400:
            raise _rejection(status, body)
        if not isinstance(body, dict):
            raise PaymentProviderError(f"{method} {path}: expected a JSON object, got {body!r}")
        return body


def _rejection(status_code: int, body: Any) -> PaymentRejected:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return PaymentRejected(status_code, "unknown", repr(body))
    code = str(error.get("code", "unknown"))
    message = str(error.get("message", ""))
    return _REJECTIONS.get(code, PaymentRejected)(status_code, code, message)
