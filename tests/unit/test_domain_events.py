"""Event payloads survive the trip through JSON, for every event type."""

import dataclasses
import json
from datetime import date

import pytest

from apps.booking.events import (
    EVENT_TYPES,
    BookingCancelled,
    BookingConfirmed,
    BookingRejected,
    BookingRequested,
    Event,
    InventoryRejected,
    InventoryReleased,
    InventoryReserved,
    NotificationSent,
    PaymentAuthorized,
    PaymentDeclined,
    PaymentRefunded,
    event_from_payload,
    event_to_payload,
    event_type_name,
)
from apps.booking.lifecycle import RejectionReason

CHECK_IN = date(2027, 1, 10)
STAY = {"room_type_id": "h0001-r1", "check_in": CHECK_IN, "nights": 2, "units": 1}
SAMPLES: list[Event] = [
    BookingRequested(
        booking_id="b-1",
        customer_id="c-1",
        hotel_id="h0001",
        amount_cents=16_000,
        card_token="tok_visa",
        **STAY,
    ),
    BookingConfirmed(
        booking_id="b-1", customer_id="c-1", authorization_id="a-1", amount_cents=16_000
    ),
    BookingRejected(booking_id="b-1", customer_id="c-1", reason=RejectionReason.SOLD_OUT, **STAY),
    BookingCancelled(booking_id="b-1", customer_id="c-1", amount_cents=16_000, **STAY),
    InventoryReserved(booking_id="b-1", amount_cents=16_000, card_token="tok_visa", **STAY),
    InventoryRejected(booking_id="b-1", **STAY),
    InventoryReleased(booking_id="b-1", **STAY),
    PaymentAuthorized(booking_id="b-1", authorization_id="a-1", amount_cents=16_000),
    PaymentDeclined(booking_id="b-1", amount_cents=16_000),
    PaymentRefunded(booking_id="b-1", authorization_id="a-1", amount_cents=16_000),
    NotificationSent(booking_id="b-1", customer_id="c-1", kind="BookingConfirmed"),
]


def test_every_registered_event_type_has_a_sample_here() -> None:
    assert sorted(EVENT_TYPES) == sorted(event_type_name(e) for e in SAMPLES)
    assert len(EVENT_TYPES) == 11


@pytest.mark.parametrize("event", SAMPLES, ids=event_type_name)
def test_an_event_survives_a_round_trip_through_json(event: Event) -> None:
    wire = json.loads(json.dumps(event_to_payload(event)))
    rebuilt = event_from_payload(event_type_name(event), wire)
    assert rebuilt == event
    assert type(rebuilt) is type(event)


@pytest.mark.parametrize("event", SAMPLES, ids=event_type_name)
def test_a_payload_holds_only_json_native_values(event: Event) -> None:
    payload = event_to_payload(event)
    assert set(payload) == {f.name for f in dataclasses.fields(event)}
    for value in payload.values():
        assert type(value) in (str, int)


def test_dates_and_reasons_travel_as_strings() -> None:
    payload = event_to_payload(SAMPLES[2])
    assert payload["check_in"] == "2027-01-10"
    assert payload["reason"] == "sold_out"
    rebuilt = event_from_payload("BookingRejected", payload)
    assert isinstance(rebuilt, BookingRejected)
    assert rebuilt.reason is RejectionReason.SOLD_OUT


def test_an_unknown_event_type_is_refused() -> None:
    with pytest.raises(ValueError, match="BookingTeleported"):
        event_from_payload("BookingTeleported", {"booking_id": "b-1"})


def test_a_payload_with_missing_or_extra_fields_is_refused() -> None:
    payload = event_to_payload(SAMPLES[7])
    with pytest.raises(ValueError):
        event_from_payload(
            "PaymentAuthorized", {k: v for k, v in payload.items() if k != "amount_cents"}
        )
    with pytest.raises(ValueError):
        event_from_payload("PaymentAuthorized", {**payload, "surprise": 1})
