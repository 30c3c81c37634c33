"""Domain events, named in the past tense, and their JSON-safe payloads for the event log."""

from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import Enum
from typing import Any, get_type_hints

from apps.booking.lifecycle import RejectionReason


@dataclass(frozen=True, slots=True)
class Event:
    pass


@dataclass(frozen=True, slots=True)
class BookingRequested(Event):
    booking_id: str
    customer_id: str
    hotel_id: str
    room_type_id: str
    check_in: date
    nights: int
    units: int
    amount_cents: int
    # Carried along because payment only hears about the booking through InventoryReserved.
    card_token: str


@dataclass(frozen=True, slots=True)
class BookingConfirmed(Event):
    booking_id: str
    customer_id: str
    authorization_id: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class BookingRejected(Event):
    booking_id: str
    customer_id: str
    reason: RejectionReason
    # The stay is repeated so inventory can release a hold without keeping booking state.
    room_type_id: str
    check_in: date
    nights: int
    units: int


@dataclass(frozen=True, slots=True)
class BookingCancelled(Event):
    booking_id: str
    customer_id: str
    room_type_id: str
    check_in: date
    nights: int
    units: int
    amount_cents: int


@dataclass(frozen=True, slots=True)
class InventoryReserved(Event):
    booking_id: str
    room_type_id: str
    check_in: date
    nights: int
    units: int
    amount_cents: int
    card_token: str


@dataclass(frozen=True, slots=True)
class InventoryRejected(Event):
    booking_id: str
    room_type_id: str
    check_in: date
    nights: int
    units: int


@dataclass(frozen=True, slots=True)
class InventoryReleased(Event):
    booking_id: str
    room_type_id: str
    check_in: date
    nights: int
    units: int


@dataclass(frozen=True, slots=True)
class PaymentAuthorized(Event):
    booking_id: str
    authorization_id: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class PaymentDeclined(Event):
    booking_id: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class PaymentRefunded(Event):
    booking_id: str
    authorization_id: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class NotificationSent(Event):
    booking_id: str
    customer_id: str
    kind: str  # the event type the notification was about, e.g. "BookingConfirmed"


EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        BookingRequested,
        BookingConfirmed,
        BookingRejected,
        BookingCancelled,
        InventoryReserved,
        InventoryRejected,
        InventoryReleased,
        PaymentAuthorized,
        PaymentDeclined,
        PaymentRefunded,
        NotificationSent,
    )
}


def event_type_name(event: Event) -> str:
    return type(event).__name__


def event_to_payload(event: Event) -> dict[str, Any]:
    return {f.name: _to_json(getattr(event, f.name)) for f in fields(event)}


def event_from_payload(type_name: str, payload: dict[str, Any]) -> Event:
    cls = EVENT_TYPES.get(type_name)
    if cls is None:
        raise ValueError(f"unknown event type {type_name!r}")
    hints = get_type_hints(cls)
    names = {f.name for f in fields(cls)}
    if set(payload) != names:
        raise ValueError(
            f"{type_name} payload has fields {sorted(payload)}, expected {sorted(names)}"
        )
    return cls(**{name: _from_json(hints[name], payload[name]) for name in names})


def _to_json(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _from_json(kind: object, value: Any) -> object:
    if kind is date:
        return date.fromisoformat(value)
    if kind is datetime:
        return datetime.fromisoformat(value)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(value)
    return value
