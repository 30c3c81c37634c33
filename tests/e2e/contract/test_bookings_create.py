"""POST /bookings: confirmed, sold out and declined bookings, and what they do to availability."""

import httpx
import pytest

from .helpers import (
    DECLINED_CARD,
    assert_booking_matches,
    available_units,
    book_and_wait,
    new_customer_id,
    take_slot,
    wait_for_available_units,
)

pytestmark = pytest.mark.e2e


def test_a_booking_with_a_valid_card_is_confirmed_at_the_stay_price(api: httpx.Client) -> None:
    slot = take_slot(api, nights=2)
    body = slot.body(new_customer_id(), units=2)

    response, booking = book_and_wait(api, body)

    accepted = response.json()
    assert_booking_matches(accepted, body, slot)
    assert booking["booking_id"] == accepted["booking_id"]
    assert booking["status"] == "confirmed", booking
    assert booking["reason"] is None
    assert_booking_matches(booking, body, slot)
    assert booking["amount_cents"] == slot.nightly_rate_cents * 2 * 2


def test_a_booking_without_units_takes_one_unit(api: httpx.Client) -> None:
    slot = take_slot(api, nights=2)
    body = slot.body(new_customer_id())
    del body["units"]
    before = available_units(api, slot)

    _, booking = book_and_wait(api, body)

    assert booking["status"] == "confirmed", booking
    assert booking["units"] == 1
    assert booking["amount_cents"] == slot.nightly_rate_cents * slot.nights
    wait_for_available_units(api, slot, before - 1)


def test_a_booking_for_a_sold_out_room_type_is_rejected_and_holds_nothing(
    api: httpx.Client,
) -> None:
    slot = take_slot(api, nights=2)
    _, everything = book_and_wait(api, slot.body(new_customer_id(), units=slot.units))
    assert everything["status"] == "confirmed", everything
    wait_for_available_units(api, slot, 0)
    body = slot.body(new_customer_id())

    _, booking = book_and_wait(api, body)

    assert booking["status"] == "rejected", booking
    assert booking["reason"] == "sold_out"
    assert_booking_matches(booking, body, slot)
    wait_for_available_units(api, slot, 0)


def test_asking_for_more_units_than_remain_is_sold_out_without_taking_the_rest(
    api: httpx.Client,
) -> None:
    slot = take_slot(api, nights=2)
    _, first = book_and_wait(api, slot.body(new_customer_id(), units=slot.units - 1))
    assert first["status"] == "confirmed", first
    wait_for_available_units(api, slot, 1)

    _, booking = book_and_wait(api, slot.body(new_customer_id(), units=2))

    assert booking["status"] == "rejected", booking
    assert booking["reason"] == "sold_out"
    wait_for_available_units(api, slot, 1)


def test_a_declined_card_rejects_the_booking_and_releases_the_rooms(api: httpx.Client) -> None:
    slot = take_slot(api, nights=2)
    before = available_units(api, slot)
    body = slot.body(new_customer_id(), units=2, card_token=DECLINED_CARD)

    _, booking = book_and_wait(api, body)

    assert booking["status"] == "rejected", booking
    assert booking["reason"] == "payment_declined"
    assert_booking_matches(booking, body, slot)
    wait_for_available_units(api, slot, before)
