"""Authorize and refund card payments, idempotently by key, with simulated latency.

A request whose key is already being processed awaits that first attempt instead of
starting a second one, so concurrent retries share one answer and one ledger record.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from apps.payment_provider.decisions import is_declined
from apps.payment_provider.latency import LatencyModel
from apps.payment_provider.ledger import Entry, Kind, Ledger
from apps.payment_provider.validation import AuthorizationRequest, RefundRequest


@dataclass(frozen=True)
class Outcome:
    """An answer ready to send: a status code and the exact JSON bytes."""

    status_code: int
    body: bytes

    @classmethod
    def ok(cls, record: dict[str, Any]) -> Outcome:
        return cls(200, orjson.dumps(record))

    @classmethod
    def error(cls, status_code: int, code: str, message: str) -> Outcome:
        return cls(status_code, orjson.dumps({"error": {"code": code, "message": message}}))


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


class PaymentProcessor:
    def __init__(
        self,
        ledger: Ledger,
        latency: LatencyModel,
        *,
        seed: int,
        decline_rate: float,
        clock: Callable[[], str] = utc_now_iso,
        make_id: Callable[[str], str] = new_id,
    ) -> None:
        self._ledger = ledger
        self._latency = latency
        self._seed = seed
        self._decline_rate = decline_rate
        self._clock = clock
        self._make_id = make_id
        self._in_flight: dict[tuple[Kind, str], tuple[str, asyncio.Task[Outcome]]] = {}

    async def authorize(self, request: AuthorizationRequest) -> Outcome:
        return await self._once(
            "authorization",
            request.idempotency_key,
            request.fingerprint(),
            lambda: self._after_latency(lambda: self._record_authorization(request)),
        )

    async def refund(self, request: RefundRequest) -> Outcome:
        return await self._once(
            "refund",
            request.idempotency_key,
            request.fingerprint(),
            lambda: self._after_latency(lambda: self._record_refund(request)),
        )

    async def _once(
        self,
        kind: Kind,
        key: str,
        fingerprint: str,
        attempt: Callable[[], Awaitable[Outcome]],
    ) -> Outcome:
        done = self._ledger.find(kind, key)
        if done is not None:
            if done.fingerprint != fingerprint:
                return _conflict(kind, key)
            return Outcome.ok(done.record)
        running = self._in_flight.get((kind, key))
        if running is not None:
            running_fingerprint, task = running
            if running_fingerprint != fingerprint:
                return _conflict(kind, key)
            return await asyncio.shield(task)
        task = asyncio.ensure_future(attempt())
        self._in_flight[(kind, key)] = (fingerprint, task)
        task.add_done_callback(lambda _: self._in_flight.pop((kind, key), None))
        # Shielded: a caller that goes away must not cancel the attempt others are awaiting.
        return await asyncio.shield(task)

    async def _after_latency(self, decide: Callable[[], Outcome]) -> Outcome:
        await asyncio.sleep(self._latency.sample())
        # Check and record with no await in between, so concurrent refunds cannot overdraw.
        return decide()

    def _record_authorization(self, request: AuthorizationRequest) -> Outcome:
        declined = is_declined(
            seed=self._seed,
            decline_rate=self._decline_rate,
            booking_id=request.booking_id,
            card_token=request.card_token,
        )
        record = {
            "authorization_id": self._make_id("auth"),
            "idempotency_key": request.idempotency_key,
            "booking_id": request.booking_id,
            "amount_cents": request.amount_cents,
            "status": "declined" if declined else "approved",
            "created_at": self._clock(),
        }
        self._ledger.append(Entry("authorization", request.fingerprint(), record))
        return Outcome.ok(record)

    def _record_refund(self, request: RefundRequest) -> Outcome:
        authorization = self._ledger.authorization(request.authorization_id)
        if authorization is None:
            return Outcome.error(
                404, "not_found", f"authorization {request.authorization_id!r} does not exist"
            )
        if authorization["status"] != "approved":
            return Outcome.error(
                409,
                "not_refundable",
                f"authorization {request.authorization_id!r} was declined; nothing to refund",
            )
        refundable = authorization["amount_cents"] - self._ledger.refunded_cents(
            request.authorization_id
        )
        if request.amount_cents > refundable:
            return Outcome.error(
                409,
                "not_refundable",
                f"amount_cents {request.amount_cents} exceeds the refundable {refundable}",
            )
        record = {
            "refund_id": self._make_id("ref"),
            "idempotency_key": request.idempotency_key,
            "authorization_id": request.authorization_id,
            "amount_cents": request.amount_cents,
            "status": "refunded",
            "created_at": self._clock(),
        }
        self._ledger.append(Entry("refund", request.fingerprint(), record))
        return Outcome.ok(record)


def _conflict(kind: Kind, key: str) -> Outcome:
    return Outcome.error(
        409,
        "idempotency_conflict",
        f"idempotency_key {key!r} was already used for a different {kind} request",
    )
