"""POST /bookings with bad input: 422 validation_error, and nothing is written."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from .helpers import (
    assert_booking_matches,
    assert_error,
    assert_stays,
    available_units,
    book_and_wait,
    customer_bookings,
    new_customer_id,
    release_quietly,
    take_slot,
)

pytestmark = pytest.mark.e2e

# A bad request is made from the slot's valid body: a JSON value to send, or raw bytes.
BadRequest = Callable[[dict[str, Any]], object]


def _with(**changes: object) -> BadRequest:
    return lambda body: {**body, **changes}


def _without(field: str) -> BadRequest:
    return lambda body: {key: value for key, value in body.items() if key != field}


def _raw(content: bytes) -> BadRequest:
    return lambda body: content


BAD_REQUESTS = [
    pytest.param(_with(nights="2"), id="nights-as-a-string"),
    pytest.param(_with(nights=2.0), id="nights-as-a-float"),
    pytest.param(_with(nights=True), id="nights-as-a-boolean"),
    pytest.param(_with(units="1"), id="units-as-a-string"),
    pytest.param(_with(customer_id=5), id="customer-id-as-a-number"),
    pytest.param(_with(card_token=None), id="card-token-null"),
    pytest.param(_without("customer_id"), id="missing-customer-id"),
    pytest.param(_without("room_type_id"), id="missing-room-type-id"),
    pytest.param(_without("check_in"), id="missing-check-in"),
    pytest.param(_without("nights"), id="missing-nights"),
    pytest.param(_without("card_token"), id="missing-card-token"),
    pytest.param(_with(coupon="FREE"), id="extra-field"),
    pytest.param(_raw(b'{"nights": '), id="malformed-json"),
    pytest.param(lambda body: [body], id="json-array"),
    pytest.param(_raw(b""), id="empty-body"),
    pytest.param(_with(nights=0), id="zero-nights"),
    pytest.param(_with(nights=15), id="fifteen-nights"),
    pytest.param(_with(units=0), id="zero-units"),
    pytest.param(_with(units=6), id="six-units"),
    pytest.param(_with(check_in="2027-13-01"), id="month-13"),
    pytest.param(_with(check_in="01/02/2027"), id="date-not-iso"),
    pytest.param(_with(check_in="2026-12-31"), id="check-in-before-the-horizon"),
    pytest.param(_with(check_in="2027-01-29", nights=3), id="stay-ending-after-the-horizon"),
    pytest.param(_with(room_type_id="no-such-room-type"), id="unknown-room-type"),
    pytest.param(_with(customer_id="c" * 65), id="customer-id-of-65-characters"),
    pytest.param(_with(customer_id=""), id="empty-customer-id"),
]


def _post(api: httpx.Client, payload: object) -> httpx.Response:
    if isinstance(payload, bytes):
        return api.post("/bookings", content=payload, headers={"Content-Type": "application/json"})
    return api.post("/bookings", json=payload)


@pytest.mark.parametrize("bad_request", BAD_REQUESTS)
def test_a_bad_booking_request_is_rejected_and_writes_nothing(
    api: httpx.Client, bad_request: BadRequest
) -> None:
    slot = take_slot(api, nights=2)
    customer_id = new_customer_id()
    before = available_units(api, slot)

    response = _post(api, bad_request(slot.body(customer_id)))

    if response.status_code in (201, 202):
        release_quietly(api, response.json()["booking_id"])
    assert_error(response, 422, "validation_error")
    assert_stays(lambda: customer_bookings(api, customer_id), [], f"bookings of {customer_id}")
    assert_stays(lambda: available_units(api, slot), before, f"available units in {slot}")


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"customer_id": "c" * 64}, id="customer-id-of-64-characters"),
        pytest.param({"nights": 1}, id="one-night"),
        pytest.param({"units": 5}, id="five-units"),
    ],
)
def test_the_edges_of_the_valid_range_are_accepted(
    api: httpx.Client, changes: dict[str, Any]
) -> None:
    slot = take_slot(api, nights=2)
    body = {**slot.body(new_customer_id()), **changes}

    _, booking = book_and_wait(api, body)

    assert_booking_matches(booking, body, slot)
    if body["units"] <= slot.units:
        assert booking["status"] == "confirmed", booking
    else:
        assert (booking["status"], booking["reason"]) == ("rejected", "sold_out"), booking
