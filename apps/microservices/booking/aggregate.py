"""The booking aggregate, event-sourced: its state is the fold of its events."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from apps.booking.lifecycle import Booking, BookingStatus, RejectionReason


@dataclass(frozen=True, slots=True)
class StoredEvent:
    aggregate_id: str
    sequence: int
    event_id: str
    type: str
    payload: dict[str, Any]
    occurred_at: datetime


def apply(state: Booking | None, event: StoredEvent) -> Booking:
    """One step of the fold; the domain's state machine refuses an illegal history."""
    p = event.payload
    if event.type == "BookingRequested":
        if state is not None:
            raise ValueError(f"{event.aggregate_id}: requested twice")
        return Booking(
            booking_id=p["booking_id"], customer_id=p["customer_id"], hotel_id=p["hotel_id"],
            room_type_id=p["room_type_id"], check_in=date.fromisoformat(p["check_in"]),
            nights=p["nights"], units=p["units"], amount_cents=p["amount_cents"],
            status=BookingStatus.PENDING, reason=None,
            created_at=event.occurred_at, updated_at=event.occurred_at,
        )
    if state is None:
        raise ValueError(f"{event.aggregate_id}: {event.type} before BookingRequested")
    if event.type == "BookingConfirmed":
        return state.confirm(event.occurred_at)
    if event.type == "BookingRejected":
        return state.reject(RejectionReason(p["reason"]), event.occurred_at)
    if event.type == "BookingCancelled":
        return state.cancel(event.occurred_at)
    raise ValueError(f"{event.aggregate_id}: unknown event type {event.type}")


def fold(events: Iterable[StoredEvent]) -> Booking | None:
    state: Booking | None = None
    for event in events:
        state = apply(state, event)
    return state
