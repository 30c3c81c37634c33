"""GET /hotels: the catalog, its city filter and its paging."""

from typing import Any

import httpx
import pytest

from .helpers import assert_error, list_hotels

pytestmark = pytest.mark.e2e

HOTEL_KEYS = {"hotel_id", "name", "city", "room_types"}
ROOM_TYPE_KEYS = {"room_type_id", "name", "units", "nightly_rate_cents"}


def _ids(hotels: list[dict[str, Any]]) -> list[str]:
    return [hotel["hotel_id"] for hotel in hotels]


def test_every_hotel_lists_its_room_types_with_units_and_a_nightly_rate(
    api: httpx.Client,
) -> None:
    hotels = list_hotels(api, limit=100)

    assert hotels, "the seeded deployment lists hotels"
    for hotel in hotels:
        assert set(hotel) == HOTEL_KEYS, hotel
        assert isinstance(hotel["hotel_id"], str) and hotel["hotel_id"]
        assert isinstance(hotel["name"], str) and hotel["name"]
        assert isinstance(hotel["city"], str) and hotel["city"]
        assert hotel["room_types"], hotel
        for room in hotel["room_types"]:
            assert set(room) == ROOM_TYPE_KEYS, room
            assert isinstance(room["room_type_id"], str) and room["room_type_id"]
            assert isinstance(room["name"], str) and room["name"]
            assert type(room["units"]) is int and room["units"] >= 1, room
            assert type(room["nightly_rate_cents"]) is int and room["nightly_rate_cents"] > 0
    assert len(set(_ids(hotels))) == len(hotels), "hotel ids are unique"
    room_ids = [room["room_type_id"] for hotel in hotels for room in hotel["room_types"]]
    assert len(set(room_ids)) == len(room_ids), "room type ids are unique"


def test_the_city_filter_returns_exactly_the_hotels_of_that_city(api: httpx.Client) -> None:
    hotels = list_hotels(api, limit=100)
    cities = {hotel["city"] for hotel in hotels}
    assert cities

    for city in cities:
        filtered = list_hotels(api, city=city, limit=100)

        assert {h["city"] for h in filtered} == {city}
        assert sorted(_ids(filtered)) == sorted(h["hotel_id"] for h in hotels if h["city"] == city)


def test_a_city_without_hotels_gives_an_empty_list(api: httpx.Client) -> None:
    assert list_hotels(api, city="Atlantis-Contract-Test", limit=100) == []


@pytest.mark.parametrize("page_size", [1, 2, 3])
def test_paging_visits_every_hotel_exactly_once(api: httpx.Client, page_size: int) -> None:
    everything = _ids(list_hotels(api, limit=100))
    assert len(everything) >= 2, "paging needs at least two hotels to mean anything"

    seen: list[str] = []
    for offset in range(0, len(everything) + page_size, page_size):
        page = list_hotels(api, limit=page_size, offset=offset)
        assert len(page) == min(page_size, max(len(everything) - offset, 0)), (offset, page)
        seen.extend(_ids(page))

    assert len(seen) == len(set(seen)), f"pages overlap: {seen}"
    assert set(seen) == set(everything)


def test_limit_one_and_limit_one_hundred_are_accepted(api: httpx.Client) -> None:
    assert len(list_hotels(api, limit=1)) == 1
    assert len(list_hotels(api, limit=100)) >= 1
    assert len(list_hotels(api, limit=1, offset=0)) == 1


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"limit": "0"}, id="limit-zero"),
        pytest.param({"limit": "101"}, id="limit-101"),
        pytest.param({"limit": "abc"}, id="limit-not-a-number"),
        pytest.param({"offset": "-1"}, id="negative-offset"),
        pytest.param({"offset": "abc"}, id="offset-not-a-number"),
    ],
)
def test_bad_paging_parameters_are_rejected(api: httpx.Client, params: dict[str, str]) -> None:
    assert_error(api.get("/hotels", params=params), 422, "validation_error")
