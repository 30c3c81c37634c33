"""Payment's reactions: authorize a reserved booking, refund a cancelled one.

The provider is called before the transaction opens, never inside it, and idempotently by key
(the booking id, or `refund:<booking id>`): an event delivered again, or re-driven after a crash
between the call and the commit, gets the provider's first answer back and charges nothing more.
A provider that cannot be reached raises, so the event is redelivered later with no effect recorded.
"""

from __future__ import annotations

from apps.booking.events import (
    BookingCancelled,
    InventoryReserved,
    PaymentAuthorized,
    PaymentDeclined,
    PaymentRefunded,
)
from apps.microservices.common.consumer import Work
from apps.microservices.common.envelope import Envelope
from apps.microservices.payment import payments
from apps.payment_provider.client import PaymentClient


async def authorize(provider: PaymentClient, envelope: Envelope, work: Work) -> None:
    # no inbox look-up first: a redelivered event asks the provider again and gets its first
    # answer back (same key), then finds its id claimed; redeliveries are rare, the look-up
    # was a round trip on every event
    event = envelope.event()
    assert isinstance(event, InventoryReserved)
    auth = await provider.authorize(
        idempotency_key=event.booking_id, booking_id=event.booking_id,
        amount_cents=event.amount_cents, card_token=event.card_token,
    )
    async with work.transaction() as tx:
        if not await payments.record_authorization(tx.conn, event.booking_id, auth):
            return
        if auth.approved:
            await tx.emit(PaymentAuthorized(
                booking_id=event.booking_id, authorization_id=auth.authorization_id,
                amount_cents=auth.amount_cents,
            ), aggregate_id=event.booking_id)
        else:
            await tx.emit(PaymentDeclined(booking_id=event.booking_id,
                                          amount_cents=auth.amount_cents),
                          aggregate_id=event.booking_id)


async def refund(provider: PaymentClient, envelope: Envelope, work: Work) -> None:
    event = envelope.event()
    assert isinstance(event, BookingCancelled)
    owed = await payments.refund_owed(work.pool, event.booking_id)
    if owed is None:
        async with work.transaction():
            return  # nothing authorized, or refunded already: only remember the event
    done = await provider.refund(
        idempotency_key=f"refund:{event.booking_id}", authorization_id=owed.authorization_id,
        amount_cents=owed.amount_cents,
    )
    async with work.transaction() as tx:
        if await payments.record_refund(tx.conn, event.booking_id, done.refund_id):
            await tx.emit(PaymentRefunded(
                booking_id=event.booking_id, authorization_id=owed.authorization_id,
                amount_cents=owed.amount_cents,
            ), aggregate_id=event.booking_id)
