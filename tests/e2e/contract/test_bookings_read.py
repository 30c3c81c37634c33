"""GET /bookings/{id}: a booking reads back as it was made; unknown ids are not found."""

from uuid import uuid4

import httpx
import pytest

from .helpers import (
    assert_booking_matches,
    assert_booking_shape,
    assert_error,
    book_and_wait,
    get_booking,
    new_customer_id,
    take_slot,
)

pytestmark = pytest.mark.e2e


def test_a_booking_reads_back_at_its_location_as_it_was_made(api: httpx.Client) -> None:
    slot = take_slot(api, nights=2)
    body = slot.body(new_customer_id(), units=2)
    response, booking = book_and_wait(api, body)

    location = httpx.URL(response.headers["location"]).path
    read = api.get(location)

    assert read.status_code == 200, read.text
    again = read.json()
    assert_booking_shape(again)
    assert again == booking
    assert again["booking_id"] == response.json()["booking_id"]
    assert again["created_at"] == response.json()["created_at"]
    assert_booking_matches(again, body, slot)


def test_an_unknown_booking_is_not_found(api: httpx.Client) -> None:
    assert_error(get_booking(api, str(uuid4())), 404, "not_found")
