"""Inventory's reactions to booking events: reserve on request, release on failure or cancellation."""

from __future__ import annotations

from apps.booking.events import (
    BookingCancelled,
    BookingRejected,
    BookingRequested,
    InventoryRejected,
    InventoryReleased,
    InventoryReserved,
)
from apps.booking.lifecycle import RejectionReason
from apps.microservices.common.consumer import Handler, Tx, Work
from apps.microservices.common.envelope import Envelope
from apps.microservices.inventory import holds
from apps.microservices.inventory.holds import Stay
from apps.platform.retry import retrying


async def on_booking_requested(envelope: Envelope, work: Work) -> None:
    event = envelope.event()
    assert isinstance(event, BookingRequested)
    stay = Stay(event.room_type_id, event.check_in, event.nights, event.units)
    async with work.transaction() as tx:
        held = await holds.reserve(tx.conn, event.booking_id, stay)
        if held is None:
            return  # this booking was decided before, under another event id
        if held:
            await tx.emit(InventoryReserved(
                booking_id=event.booking_id, room_type_id=stay.room_type_id,
                check_in=stay.check_in, nights=stay.nights, units=stay.units,
                amount_cents=event.amount_cents, card_token=event.card_token,
            ), aggregate_id=event.booking_id)
        else:
            await tx.emit(InventoryRejected(
                booking_id=event.booking_id, room_type_id=stay.room_type_id,
                check_in=stay.check_in, nights=stay.nights, units=stay.units,
            ), aggregate_id=event.booking_id)


async def on_booking_rejected(envelope: Envelope, work: Work) -> None:
    event = envelope.event()
    assert isinstance(event, BookingRejected)
    async with work.transaction() as tx:
        # A booking refused as sold out never held anything; only a declined payment did.
        if event.reason is RejectionReason.PAYMENT_DECLINED:
            await _release(tx, event.booking_id)


async def on_booking_cancelled(envelope: Envelope, work: Work) -> None:
    event = envelope.event()
    assert isinstance(event, BookingCancelled)
    async with work.transaction() as tx:
        await _release(tx, event.booking_id)


async def _release(tx: Tx, booking_id: str) -> None:
    stay = await holds.release(tx.conn, booking_id)
    if stay is not None:
        await tx.emit(InventoryReleased(
            booking_id=booking_id, room_type_id=stay.room_type_id, check_in=stay.check_in,
            nights=stay.nights, units=stay.units,
        ), aggregate_id=booking_id)


HANDLERS: dict[str, Handler] = {
    "BookingRequested": on_booking_requested,
    "BookingRejected": on_booking_rejected,
    "BookingCancelled": on_booking_cancelled,
}


def dispatch(handlers: dict[str, Handler]) -> Handler:
    """One handler for a subscription: by event type, retrying a transaction that lost a race
    (the whole transaction rolls back, inbox claim included, so running it again is safe)."""

    async def handle(envelope: Envelope, work: Work) -> None:
        await retrying(lambda: handlers[envelope.type](envelope, work))

    return handle
