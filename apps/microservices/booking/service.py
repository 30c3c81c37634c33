"""The booking service: accepts commands (command-sourced), keeps the event-sourced aggregate,
and moves each booking along as inventory and payment outcomes arrive (event collaboration).

POST /bookings answers 202 with the pending booking as soon as BookingRequested is stored; the
client follows the booking on the read side (the query service).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from apps.booking.commands import CreateBooking
from apps.booking.events import BookingCancelled, BookingConfirmed, BookingRejected, BookingRequested
from apps.booking.lifecycle import Booking, BookingStatus, RejectionReason
from apps.contract.errors import IdempotencyConflict, NotFound
from apps.contract.validation import parse_booking_id, parse_create_booking, parse_idempotency_key
from apps.microservices.booking import store
from apps.microservices.booking.replay import replay
from apps.microservices.common.consumer import Subscription, Tx, Work
from apps.microservices.common.envelope import Envelope
from apps.microservices.common.runtime import Runtime, ServiceDefinition, create_app, runtime_of
from apps.platform.bookings import claim_idempotency_key
from apps.platform.http import JSON, json_body
from apps.platform.retry import retrying

__all__ = ["DEFINITION", "create", "replay"]
T = TypeVar("T")
log = logging.getLogger(__name__)
SERVICE = "booking"


async def _in_tx(runtime: Runtime, work: Callable[[Tx], Awaitable[T]]) -> T:
    """Run `work` in one transaction with an outbox; retry when another writer got there first."""

    async def attempt() -> T:
        async with runtime.pool.acquire() as conn, \
                Tx(conn, SERVICE, cause=None).committing(runtime.relay) as tx:
            return await work(tx)

    return await retrying(attempt, also=(store.ConcurrentChange,))


async def _emit(tx: Tx, event: object, booking_id: str, version: int) -> Envelope:
    envelope = await tx.emit(event, aggregate_id=booking_id, sequence=version + 1)  # type: ignore[arg-type]
    await store.append(tx.conn, envelope)
    return envelope


async def _command(runtime: Runtime, kind: str, payload: dict[str, Any], key: str | None,
                   booking_id: str | None, work: Callable[[Tx], Awaitable[Booking]]) -> Booking:
    """Handle a command in one transaction that also records it as accepted (one commit per
    command); a refused command is recorded on its own, with the error's code as its outcome."""

    async def handle(tx: Tx) -> Booking:
        booking = await work(tx)
        await store.record_command(tx.conn, kind, payload, key, "accepted", booking.booking_id)
        return booking

    try:
        return await _in_tx(runtime, handle)
    except Exception as exc:
        outcome = getattr(exc, "code", "failed")  # a domain or contract error names its code
        await store.record_command(runtime.pool, kind, payload, key, outcome, booking_id)
        raise


async def create_booking(request: Request) -> JSON:
    runtime = runtime_of(request)
    body = await json_body(request)
    key = parse_idempotency_key(request.headers.get("idempotency-key"))
    assert runtime.catalog is not None
    command = parse_create_booking(body, runtime.catalog)
    booking = await _command(runtime, "CreateBooking", body, key, None,
                             lambda tx: _request(tx, runtime, command, key))
    status = 202 if booking.status is BookingStatus.PENDING else 201
    return JSON(booking.to_dict(), status_code=status,
                headers={"Location": f"/bookings/{booking.booking_id}"})


async def _request(tx: Tx, runtime: Runtime, command: CreateBooking, key: str | None) -> Booking:
    booking_id = str(uuid.uuid4())
    if key is not None:
        other = await claim_idempotency_key(tx.conn, key, command.fingerprint(), booking_id)
        if other is not None:
            if other[0] != command.fingerprint():
                raise IdempotencyConflict("Idempotency-Key: already used with a different request body")
            existing, _ = await store.load(tx.conn, other[1])
            assert existing is not None
            return existing
    assert runtime.catalog is not None
    room_type = runtime.catalog.room_type(command.room_type_id)
    assert room_type is not None
    booking = Booking.pending(booking_id, command, room_type, datetime.now(UTC))
    envelope = await _emit(tx, BookingRequested(
        booking_id=booking_id, customer_id=booking.customer_id, hotel_id=booking.hotel_id,
        room_type_id=booking.room_type_id, check_in=booking.check_in, nights=booking.nights,
        units=booking.units, amount_cents=booking.amount_cents, card_token=command.card_token,
    ), booking_id, 0)
    # the stored state is the fold of the stored event: stamp it with the event's time
    return Booking.pending(booking_id, command, room_type, envelope.occurred_at)


async def cancel_booking(request: Request) -> JSON:
    runtime = runtime_of(request)
    booking_id = parse_booking_id(request.path_params["booking_id"])

    async def cancel(tx: Tx) -> Booking:
        booking, version = await store.load(tx.conn, booking_id)
        if booking is None:
            raise NotFound(f"booking {booking_id} not found")
        booking.cancel(datetime.now(UTC))  # refuses anything but a confirmed booking
        envelope = await _emit(tx, BookingCancelled(
            booking_id=booking_id, customer_id=booking.customer_id,
            room_type_id=booking.room_type_id, check_in=booking.check_in,
            nights=booking.nights, units=booking.units, amount_cents=booking.amount_cents,
        ), booking_id, version)
        return booking.cancel(envelope.occurred_at)

    cancelled = await _command(runtime, "CancelBooking", {"booking_id": booking_id}, None,
                               booking_id, cancel)
    return JSON(cancelled.to_dict())


def _reaction(decide: Callable[[Booking, dict[str, Any]], object | None]
              ) -> Callable[[Envelope, Work], Awaitable[None]]:
    """A handler that loads the aggregate, lets `decide` pick the event, and appends it."""

    async def attempt(envelope: Envelope, work: Work) -> None:
        booking_id = envelope.payload["booking_id"]
        async with work.transaction() as tx:
            booking, version = await store.load(tx.conn, booking_id)
            if booking is None:
                # can never apply (not ours): record it as handled rather than let it be
                # redelivered forever and hold up the stream
                log.error("%s %s for unknown booking %s ignored", envelope.type,
                          envelope.event_id, booking_id)
                return
            event = decide(booking, envelope.payload)
            if event is not None:
                await _emit(tx, event, booking_id, version)

    async def handle(envelope: Envelope, work: Work) -> None:
        await retrying(lambda: attempt(envelope, work), also=(store.ConcurrentChange,))

    return handle


def _rejected(reason: RejectionReason) -> Callable[[Booking, dict[str, Any]], object | None]:
    def decide(booking: Booking, payload: dict[str, Any]) -> object | None:
        if booking.settle(reason, datetime.now(UTC)) is None:
            return None
        return BookingRejected(
            booking_id=booking.booking_id, customer_id=booking.customer_id, reason=reason,
            room_type_id=booking.room_type_id, check_in=booking.check_in,
            nights=booking.nights, units=booking.units,
        )

    return decide


def _confirmed(booking: Booking, payload: dict[str, Any]) -> object | None:
    if booking.settle(None, datetime.now(UTC)) is None:
        return None
    return BookingConfirmed(booking_id=booking.booking_id, customer_id=booking.customer_id,
                            authorization_id=payload["authorization_id"],
                            amount_cents=booking.amount_cents)


def _subscriptions(runtime: Runtime) -> list[Subscription]:
    by_type = {
        "InventoryRejected": _reaction(_rejected(RejectionReason.SOLD_OUT)),
        "PaymentAuthorized": _reaction(_confirmed),
        "PaymentDeclined": _reaction(_rejected(RejectionReason.PAYMENT_DECLINED)),
    }

    async def dispatch(envelope: Envelope, work: Work) -> None:
        await by_type[envelope.type](envelope, work)

    return [
        Subscription("inventory", ["InventoryRejected"], dispatch, concurrency=16),
        Subscription("payment", ["PaymentAuthorized", "PaymentDeclined"], dispatch,
                     concurrency=16),
    ]


def _routes() -> list[BaseRoute]:
    return [
        Route("/bookings", create_booking, methods=["POST"]),
        Route("/bookings/{booking_id}/cancel", cancel_booking, methods=["POST"]),
    ]


DEFINITION = ServiceDefinition(
    name=SERVICE,
    ddl=store.DDL,
    produces=True,
    consumes_from=("inventory", "payment"),
    needs_reference_data=True,
    routes=_routes,
    subscriptions=_subscriptions,
)


def create() -> Starlette:
    return create_app(DEFINITION)
