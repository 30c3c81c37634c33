"""Idempotency-Key on POST /bookings: a retried request never books twice."""

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import uuid4

import httpx
import pytest

from .helpers import (
    Slot,
    assert_booking_matches,
    assert_booking_shape,
    assert_error,
    assert_stays,
    available_units,
    book_and_wait,
    booking_ids,
    customer_bookings,
    new_customer_id,
    take_slot,
    wait_for_available_units,
    wait_for_booking,
    wait_for_customer_bookings,
)

pytestmark = pytest.mark.e2e


def _key(length: int = 45) -> str:
    """A key no other test uses, of exactly `length` characters."""
    return f"contract-{uuid4()}".ljust(length, "k")[:length]


def _assert_replayed(response: httpx.Response, booking_id: str) -> None:
    """A replay answers with the original booking, whatever status code it picks for that."""
    assert response.status_code in (200, 201, 202), f"{response.status_code}: {response.text}"
    replayed = response.json()
    assert_booking_shape(replayed)
    assert replayed["booking_id"] == booking_id, replayed


def _assert_booked_once(
    api: httpx.Client, customer_id: str, booking_id: str, slot: Slot, free_before: int
) -> None:
    wait_for_customer_bookings(api, customer_id, {booking_id})
    assert_stays(
        lambda: booking_ids(customer_bookings(api, customer_id)),
        [booking_id],
        f"bookings of {customer_id}",
    )
    wait_for_available_units(api, slot, free_before - 1)


def test_repeating_a_request_with_the_same_key_returns_the_same_booking(
    api: httpx.Client,
) -> None:
    slot = take_slot(api, nights=2)
    before = available_units(api, slot)
    customer_id = new_customer_id()
    body = slot.body(customer_id)
    headers = {"Idempotency-Key": _key()}
    _, booking = book_and_wait(api, body, headers)
    assert booking["status"] == "confirmed", booking

    again = api.post("/bookings", json=body, headers=headers)

    _assert_replayed(again, booking["booking_id"])
    _assert_booked_once(api, customer_id, booking["booking_id"], slot, before)


def test_concurrent_requests_with_the_same_key_make_one_booking(api: httpx.Client) -> None:
    slot = take_slot(api, nights=2)
    before = available_units(api, slot)
    customer_id = new_customer_id()
    body = slot.body(customer_id)
    headers = {"Idempotency-Key": _key()}
    copies = 5
    start = threading.Barrier(copies)

    def post_once(_: int) -> httpx.Response:
        with httpx.Client(base_url=api.base_url, timeout=api.timeout) as client:
            start.wait(timeout=10)
            return client.post("/bookings", json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=copies) as pool:
        responses = list(pool.map(post_once, range(copies)))

    for response in responses:
        assert response.status_code in (200, 201, 202), f"{response.status_code}: {response.text}"
    ids = {response.json()["booking_id"] for response in responses}
    assert len(ids) == 1, f"one key made several bookings: {ids}"
    (booking_id,) = ids
    booking = wait_for_booking(api, booking_id, {"confirmed", "rejected"}, missing_is_pending=True)
    assert booking["status"] == "confirmed", booking
    _assert_booked_once(api, customer_id, booking_id, slot, before)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"units": 2}, id="more-units"),
        pytest.param({"card_token": "tok_other_card"}, id="another-card"),
    ],
)
def test_reusing_a_key_for_a_different_request_is_a_conflict_and_writes_nothing(
    api: httpx.Client, changes: dict[str, Any]
) -> None:
    slot = take_slot(api, nights=2)
    before = available_units(api, slot)
    customer_id = new_customer_id()
    body = slot.body(customer_id)
    headers = {"Idempotency-Key": _key()}
    _, booking = book_and_wait(api, body, headers)
    assert booking["status"] == "confirmed", booking

    response = api.post("/bookings", json={**body, **changes}, headers=headers)

    assert_error(response, 409, "idempotency_conflict")
    _assert_booked_once(api, customer_id, booking["booking_id"], slot, before)


def test_a_key_of_128_characters_is_accepted(api: httpx.Client) -> None:
    slot = take_slot(api, nights=2)
    body = slot.body(new_customer_id())

    _, booking = book_and_wait(api, body, {"Idempotency-Key": _key(128)})

    assert booking["status"] == "confirmed", booking
    assert_booking_matches(booking, body, slot)


def test_a_key_longer_than_128_characters_is_rejected_and_writes_nothing(
    api: httpx.Client,
) -> None:
    slot = take_slot(api, nights=2)
    before = available_units(api, slot)
    customer_id = new_customer_id()

    response = api.post(
        "/bookings", json=slot.body(customer_id), headers={"Idempotency-Key": _key(129)}
    )

    assert_error(response, 422, "validation_error")
    assert_stays(lambda: customer_bookings(api, customer_id), [], f"bookings of {customer_id}")
    assert_stays(lambda: available_units(api, slot), before, f"available units in {slot}")
