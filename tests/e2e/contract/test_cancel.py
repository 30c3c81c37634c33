"""POST /bookings/{id}/cancel: only confirmed bookings cancel; cancelling frees the rooms."""

from uuid import uuid4

import httpx
import pytest

from .helpers import (
    DECLINED_CARD,
    assert_error,
    available_units,
    book_and_wait,
    cancel_and_wait,
    get_booking,
    new_customer_id,
    take_slot,
    wait_for_available_units,
)

pytestmark = pytest.mark.e2e

UNCHANGED_BY_CANCEL = (
    "booking_id",
    "customer_id",
    "hotel_id",
    "room_type_id",
    "check_in",
    "nights",
    "units",
    "amount_cents",
    "created_at",
)


def test_cancelling_a_confirmed_booking_gives_its_rooms_back(api: httpx.Client) -> None:
    slot = take_slot(api, nights=2)
    before = available_units(api, slot)
    _, booking = book_and_wait(api, slot.body(new_customer_id(), units=2))
    assert booking["status"] == "confirmed", booking
    wait_for_available_units(api, slot, before - 2)

    response, final = cancel_and_wait(api, booking["booking_id"])

    cancelled = response.json()
    for key in UNCHANGED_BY_CANCEL:
        assert cancelled[key] == booking[key], key
        assert final[key] == booking[key], key
    assert final["status"] == "cancelled"
    wait_for_available_units(api, slot, before)


def test_a_booking_cannot_be_cancelled_twice(api: httpx.Client) -> None:
    slot = take_slot(api, nights=2)
    before = available_units(api, slot)
    _, booking = book_and_wait(api, slot.body(new_customer_id()))
    assert booking["status"] == "confirmed", booking
    cancel_and_wait(api, booking["booking_id"])

    response = api.post(f"/bookings/{booking['booking_id']}/cancel")

    assert_error(response, 409, "not_cancellable")
    assert get_booking(api, booking["booking_id"]).json()["status"] == "cancelled"
    wait_for_available_units(api, slot, before)


def test_a_rejected_booking_cannot_be_cancelled(api: httpx.Client) -> None:
    slot = take_slot(api, nights=2)
    before = available_units(api, slot)
    _, booking = book_and_wait(api, slot.body(new_customer_id(), card_token=DECLINED_CARD))
    assert booking["status"] == "rejected", booking

    response = api.post(f"/bookings/{booking['booking_id']}/cancel")

    assert_error(response, 409, "not_cancellable")
    after = get_booking(api, booking["booking_id"]).json()
    assert after["status"] == "rejected"
    assert after["reason"] == "payment_declined"
    wait_for_available_units(api, slot, before)


def test_cancelling_an_unknown_booking_is_not_found(api: httpx.Client) -> None:
    assert_error(api.post(f"/bookings/{uuid4()}/cancel"), 404, "not_found")
