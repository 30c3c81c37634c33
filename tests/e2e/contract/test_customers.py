"""GET /customers/{id}/bookings: a customer's own bookings, newest first."""

from datetime import datetime

import httpx
import pytest

from .helpers import (
    book_and_wait,
    booking_ids,
    customer_bookings,
    new_customer_id,
    take_slot,
    wait_for_customer_bookings,
)

pytestmark = pytest.mark.e2e


def test_a_customer_sees_their_bookings_newest_first(api: httpx.Client) -> None:
    slot = take_slot(api, nights=1)
    customer_id = new_customer_id()
    made = [book_and_wait(api, slot.body(customer_id))[1] for _ in range(3)]
    assert [b["status"] for b in made] == ["confirmed"] * 3, made

    listed = wait_for_customer_bookings(api, customer_id, set(booking_ids(made)))

    assert booking_ids(listed) == booking_ids(made)[::-1]
    created = [datetime.fromisoformat(b["created_at"]) for b in listed]
    assert created == sorted(created, reverse=True), created
    assert {b["booking_id"]: b["status"] for b in listed} == {
        b["booking_id"]: b["status"] for b in made
    }


def test_a_customer_sees_only_their_own_bookings(api: httpx.Client) -> None:
    slot = take_slot(api, nights=1)
    alice, bob = new_customer_id(), new_customer_id()
    _, alices = book_and_wait(api, slot.body(alice))
    _, bobs = book_and_wait(api, slot.body(bob))

    listed = wait_for_customer_bookings(api, alice, {alices["booking_id"]})

    assert booking_ids(listed) == [alices["booking_id"]]
    assert booking_ids(wait_for_customer_bookings(api, bob, {bobs["booking_id"]})) == [
        bobs["booking_id"]
    ]


def test_a_customer_without_bookings_gets_an_empty_list(api: httpx.Client) -> None:
    assert customer_bookings(api, new_customer_id()) == []
