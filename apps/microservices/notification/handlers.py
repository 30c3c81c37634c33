"""Notification's reaction to every booking outcome: record it and say it was sent."""

from __future__ import annotations

from apps.booking.events import BookingCancelled, BookingConfirmed, BookingRejected, NotificationSent
from apps.microservices.common.consumer import Work
from apps.microservices.common.envelope import Envelope
from apps.microservices.notification import notifications

OUTCOMES = ("BookingConfirmed", "BookingRejected", "BookingCancelled")


async def notify(envelope: Envelope, work: Work) -> None:
    event = envelope.event()
    assert isinstance(event, BookingConfirmed | BookingRejected | BookingCancelled)
    kind = envelope.type
    async with work.transaction() as tx:
        if await notifications.record(tx.conn, event.booking_id, kind, event.customer_id):
            await tx.emit(NotificationSent(booking_id=event.booking_id,
                                           customer_id=event.customer_id, kind=kind),
                          aggregate_id=event.booking_id)
