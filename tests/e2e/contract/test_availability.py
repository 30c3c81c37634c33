"""GET /availability: what a stay costs and how many rooms are free, kept exact by bookings."""

from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.support.polling import wait_until

from .helpers import (
    HORIZON_START,
    POLL_SECONDS,
    UNTOUCHED_CHECK_IN,
    UNTOUCHED_NIGHTS,
    WAIT_SECONDS,
    Slot,
    assert_error,
    assert_stays,
    available_units,
    book_and_wait,
    cancel_and_wait,
    get_availability,
    list_hotels,
    new_customer_id,
    take_slot,
)

pytestmark = pytest.mark.e2e

AVAILABILITY_KEYS = {"hotel_id", "check_in", "nights", "room_types"}
ROOM_KEYS = {"room_type_id", "available_units", "nightly_rate_cents", "total_cents"}


def _first_hotel(api: httpx.Client) -> dict[str, Any]:
    hotels = list_hotels(api, limit=1)
    assert hotels
    return hotels[0]


def test_availability_lists_every_room_type_of_the_hotel_fully_free_on_untouched_nights(
    api: httpx.Client,
) -> None:
    hotel = _first_hotel(api)
    check_in = UNTOUCHED_CHECK_IN.isoformat()

    body = get_availability(api, hotel["hotel_id"], check_in, UNTOUCHED_NIGHTS)

    assert set(body) == AVAILABILITY_KEYS, body
    assert body["hotel_id"] == hotel["hotel_id"]
    assert body["check_in"] == check_in
    assert body["nights"] == UNTOUCHED_NIGHTS
    for room in body["room_types"]:
        assert set(room) == ROOM_KEYS, room
    catalog = {room["room_type_id"]: room for room in hotel["room_types"]}
    offered = {room["room_type_id"]: room for room in body["room_types"]}
    assert set(offered) == set(catalog)
    for room_type_id, room in offered.items():
        assert room["available_units"] == catalog[room_type_id]["units"], room
        assert room["nightly_rate_cents"] == catalog[room_type_id]["nightly_rate_cents"], room


@pytest.mark.parametrize("nights", [1, 2, 14])
def test_a_stay_costs_the_nightly_rate_times_the_nights(api: httpx.Client, nights: int) -> None:
    hotel = _first_hotel(api)

    body = get_availability(api, hotel["hotel_id"], HORIZON_START.isoformat(), nights)

    assert body["room_types"], body
    for room in body["room_types"]:
        assert type(room["total_cents"]) is int, room
        assert room["total_cents"] == room["nightly_rate_cents"] * nights, room
        assert room["available_units"] >= 0, room


def test_a_stay_ending_on_the_last_night_of_the_horizon_can_be_asked_for(
    api: httpx.Client,
) -> None:
    hotel = _first_hotel(api)

    response = api.get(
        "/availability",
        params={"hotel_id": hotel["hotel_id"], "check_in": "2027-01-29", "nights": 2},
    )

    assert response.status_code == 200, response.text


# Stays inside a four-night slot, as (first night, nights); the booking takes nights 1 and 2.
STAYS = [(0, 1), (1, 1), (2, 1), (3, 1), (0, 2), (1, 2), (2, 2), (0, 4)]


def _stays_touching_nights_1_and_2(first: int, nights: int) -> bool:
    return first <= 2 and first + nights > 1


def _availability_of_stays(api: httpx.Client, slot: Slot) -> dict[tuple[int, int], int]:
    return {(first, n): available_units(api, slot, first, n) for first, n in STAYS}


def test_a_confirmed_booking_takes_its_units_only_from_stays_that_overlap_it_until_cancelled(
    api: httpx.Client,
) -> None:
    slot = take_slot(api, nights=4)
    units = 2
    before = _availability_of_stays(api, slot)
    assert all(free >= units for free in before.values()), before
    body = slot.body(new_customer_id(), check_in=slot.night(1), nights=2, units=units)

    _, booking = book_and_wait(api, body)
    assert booking["status"] == "confirmed", booking

    held = {
        stay: free - units if _stays_touching_nights_1_and_2(*stay) else free
        for stay, free in before.items()
    }
    wait_until(lambda: _availability_of_stays(api, slot), WAIT_SECONDS, f"{units} units held",
               POLL_SECONDS, done=held.__eq__)
    assert_stays(lambda: _availability_of_stays(api, slot), held, "availability while held")

    cancel_and_wait(api, booking["booking_id"])

    wait_until(lambda: _availability_of_stays(api, slot), WAIT_SECONDS, "units given back",
               POLL_SECONDS, done=before.__eq__)
    assert_stays(lambda: _availability_of_stays(api, slot), before, "availability after cancel")


def test_an_unknown_hotel_is_not_found(api: httpx.Client) -> None:
    response = api.get(
        "/availability",
        params={"hotel_id": f"no-such-hotel-{uuid4().hex}", "check_in": "2027-01-05", "nights": 2},
    )

    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"hotel_id": None}, id="missing-hotel-id"),
        pytest.param({"check_in": None}, id="missing-check-in"),
        pytest.param({"nights": None}, id="missing-nights"),
        pytest.param({"check_in": "2027-02-30"}, id="impossible-date"),
        pytest.param({"check_in": "01/02/2027"}, id="date-not-iso"),
        pytest.param({"nights": "0"}, id="zero-nights"),
        pytest.param({"nights": "15"}, id="fifteen-nights"),
        pytest.param({"nights": "two"}, id="nights-not-a-number"),
        pytest.param({"check_in": "2027-01-29", "nights": "3"}, id="stay-past-the-horizon"),
        pytest.param({"check_in": "2026-12-31", "nights": "1"}, id="stay-before-the-horizon"),
        pytest.param({"check_in": "2027-01-31", "nights": "1"}, id="check-in-after-the-horizon"),
    ],
)
def test_bad_availability_queries_are_rejected(
    api: httpx.Client, changes: dict[str, str | None]
) -> None:
    params: dict[str, str | None] = {
        "hotel_id": _first_hotel(api)["hotel_id"],
        "check_in": "2027-01-10",
        "nights": "2",
    }
    params.update(changes)
    sent = {key: value for key, value in params.items() if value is not None}

    assert_error(api.get("/availability", params=sent), 422, "validation_error")
