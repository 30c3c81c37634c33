"""Untrusted bodies and query parameters become commands, or a ValidationError naming the field."""

import re
from datetime import date
from typing import Any

import pytest

from apps.booking.dataset import DatasetSpec, generate_catalog
from apps.booking.errors import ValidationError
from apps.contract.errors import NotFound
from apps.contract.validation import (
    CheckAvailability,
    ListHotels,
    parse_booking_id,
    parse_check_availability,
    parse_create_booking,
    parse_idempotency_key,
    parse_list_hotels,
    select_hotels,
)

CATALOG = generate_catalog(DatasetSpec(hotels=10, room_types_per_hotel=2))  # 2027-01-01..03-02
BODY: dict[str, Any] = {
    "customer_id": "c-1",
    "room_type_id": "h0003-r2",
    "check_in": "2027-01-10",
    "nights": 2,
    "units": 3,
    "card_token": "tok_visa",
}


def refused(message: str) -> Any:
    return pytest.raises(ValidationError, match=f"^{re.escape(message)}")


def with_(**changes: Any) -> dict[str, Any]:
    return {**BODY, **changes}


def without(key: str) -> dict[str, Any]:
    return {k: v for k, v in BODY.items() if k != key}


def test_a_valid_body_becomes_a_command_with_the_hotel_filled_in() -> None:
    command = parse_create_booking(BODY, CATALOG)
    assert command.hotel_id == "h0003"
    assert command.check_in == date(2027, 1, 10)
    assert (command.nights, command.units, command.card_token) == (2, 3, "tok_visa")


def test_units_default_to_one() -> None:
    assert parse_create_booking(without("units"), CATALOG).units == 1


@pytest.mark.parametrize("body", [None, [], "x", 3, [BODY]])
def test_a_body_that_is_not_an_object_is_refused(body: object) -> None:
    with refused("body: must be a JSON object"):
        parse_create_booking(body, CATALOG)


@pytest.mark.parametrize("key", ["customer_id", "room_type_id", "check_in", "nights", "card_token"])
def test_a_missing_required_field_is_named(key: str) -> None:
    with refused(f"{key}: is required"):
        parse_create_booking(without(key), CATALOG)


@pytest.mark.parametrize("key", ["hotel_id", "amount_cents", "Nights", ""])
def test_an_unexpected_field_is_named(key: str) -> None:
    with refused(f"{key}: unexpected field"):
        parse_create_booking(with_(**{key: 1}), CATALOG)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("nights", True),
        ("nights", "3"),
        ("nights", 3.0),
        ("nights", None),
        ("nights", 0),
        ("nights", 15),
        ("nights", -1),
        ("units", False),
        ("units", "1"),
        ("units", 1.0),
        ("units", 0),
        ("units", 6),
        ("units", None),
    ],
)
def test_nights_and_units_must_be_true_integers_in_range(field: str, value: Any) -> None:
    bounds = {"nights": "1 and 14", "units": "1 and 5"}[field]
    with refused(f"{field}: must be an integer between {bounds}"):
        parse_create_booking(with_(**{field: value}), CATALOG)


@pytest.mark.parametrize(("nights", "units"), [(1, 1), (14, 5)])
def test_the_edges_of_the_ranges_are_accepted(nights: int, units: int) -> None:
    command = parse_create_booking(with_(nights=nights, units=units), CATALOG)
    assert (command.nights, command.units) == (nights, units)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("customer_id", "", "customer_id: must be a string of 1..64 characters"),
        ("customer_id", "c" * 65, "customer_id: must be a string of 1..64 characters"),
        ("customer_id", 17, "customer_id: must be a string of 1..64 characters"),
        ("card_token", "", "card_token: must be a string of 1..128 characters"),
        ("card_token", "t" * 129, "card_token: must be a string of 1..128 characters"),
        ("card_token", None, "card_token: must be a string of 1..128 characters"),
        ("room_type_id", 3, "room_type_id: must be a string"),
        ("room_type_id", "h0099-r1", "room_type_id: unknown room type"),
        ("room_type_id", "", "room_type_id: unknown room type"),
    ],
)
def test_strings_and_the_room_type_are_checked(field: str, value: Any, message: str) -> None:
    with refused(message):
        parse_create_booking(with_(**{field: value}), CATALOG)


def test_the_longest_allowed_strings_are_accepted() -> None:
    command = parse_create_booking(with_(customer_id="c" * 64, card_token="t" * 128), CATALOG)
    assert len(command.customer_id) == 64


@pytest.mark.parametrize(
    "check_in",
    [
        "2027-1-1",
        "2027-01-1",
        "27-01-01",
        "2027/01/10",
        "20270110",
        "2027-01-10T00:00:00",
        " 2027-01-10",
        "\uff12\uff10\uff12\uff17-01-10",  # full-width digits
        20270110,
        None,
    ],
)
def test_a_check_in_not_written_yyyy_mm_dd_is_refused(check_in: Any) -> None:
    with refused("check_in: must be a date formatted YYYY-MM-DD"):
        parse_create_booking(with_(check_in=check_in), CATALOG)


@pytest.mark.parametrize("check_in", ["2027-02-30", "2027-13-01", "2027-00-10"])
def test_a_check_in_that_is_not_a_calendar_date_is_refused(check_in: str) -> None:
    with refused("check_in: "):
        parse_create_booking(with_(check_in=check_in), CATALOG)


@pytest.mark.parametrize(
    ("check_in", "nights"),
    [("2026-12-31", 1), ("2027-02-28", 3), ("2027-03-02", 1), ("2030-01-01", 1)],
)
def test_a_stay_outside_the_horizon_is_refused(check_in: str, nights: int) -> None:
    with refused("check_in: stay must lie within 2027-01-01..2027-03-02"):
        parse_create_booking(with_(check_in=check_in, nights=nights), CATALOG)


def test_a_stay_ending_on_the_last_day_of_the_horizon_is_accepted() -> None:
    command = parse_create_booking(with_(check_in="2027-02-28", nights=2), CATALOG)
    assert command.check_in == date(2027, 2, 28)


def test_an_absent_idempotency_key_is_fine_and_a_present_one_is_kept() -> None:
    assert parse_idempotency_key(None) is None
    assert parse_idempotency_key("k" * 128) == "k" * 128


@pytest.mark.parametrize("key", ["", "k" * 129])
def test_an_empty_or_overlong_idempotency_key_is_refused(key: str) -> None:
    with pytest.raises(ValidationError, match="Idempotency-Key"):
        parse_idempotency_key(key)


def test_hotel_listing_defaults_to_the_first_twenty_of_every_city() -> None:
    assert parse_list_hotels({}) == ListHotels(city=None, limit=20, offset=0)
    assert parse_list_hotels({"city": ""}) == ListHotels(city=None, limit=20, offset=0)


def test_hotel_listing_reads_city_limit_and_offset() -> None:
    assert parse_list_hotels({"city": "Porto", "limit": "100", "offset": "7"}) == ListHotels(
        city="Porto", limit=100, offset=7
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "1.5"}, "limit"),
        ({"limit": "+5"}, "limit"),
        ({"limit": " 5"}, "limit"),
        ({"limit": "9" * 5000}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "1e3"}, "offset"),
        ({"offset": "9" * 5000}, "offset"),
        ({"offset": str(2**63)}, "offset"),  # past PostgreSQL's bigint: a 500 once
        ({"offset": ""}, "offset"),  # empty is no integer; only an absent one takes the default
        ({"limit": ""}, "limit"),
    ],
)
def test_bad_paging_parameters_are_refused(params: dict[str, str], field: str) -> None:
    with refused(f"{field}: must be an integer"):
        parse_list_hotels(params)


def test_hotels_are_selected_by_city_ignoring_case_in_id_order() -> None:
    porto = select_hotels(CATALOG, ListHotels(city="pORTO", limit=20, offset=0))
    assert [h.hotel_id for h in porto] == ["h0002", "h0010"]
    assert select_hotels(CATALOG, ListHotels(city="Port", limit=20, offset=0)) == []


def test_hotel_pages_follow_offset_and_limit() -> None:
    page = select_hotels(CATALOG, ListHotels(city=None, limit=3, offset=4))
    assert [h.hotel_id for h in page] == ["h0005", "h0006", "h0007"]
    assert select_hotels(CATALOG, ListHotels(city=None, limit=3, offset=10)) == []


AVAILABILITY = {"hotel_id": "h0004", "check_in": "2027-02-01", "nights": "3"}


def test_an_availability_query_is_parsed() -> None:
    assert parse_check_availability(AVAILABILITY, CATALOG) == CheckAvailability(
        hotel_id="h0004", check_in=date(2027, 2, 1), nights=3
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"hotel_id": None}, "hotel_id: is required"),
        ({"hotel_id": ""}, "hotel_id: is required"),
        ({"check_in": None}, "check_in: is required"),
        ({"check_in": "2027-2-1"}, "check_in: must be a date formatted YYYY-MM-DD"),
        ({"nights": None}, "nights: is required"),
        ({"nights": "0"}, "nights: must be an integer between 1 and 14"),
        ({"nights": "15"}, "nights: must be an integer between 1 and 14"),
        ({"nights": "two"}, "nights: must be an integer between 1 and 14"),
        ({"check_in": "2027-03-01", "nights": "2"}, "check_in: stay must lie within"),
        # Malformed beats unknown: a bad request naming no real hotel is still a 422.
        ({"hotel_id": "h9999", "nights": "x"}, "nights: must be an integer"),
    ],
)
def test_a_malformed_availability_query_is_refused(
    changes: dict[str, str | None], message: str
) -> None:
    params = {k: v for k, v in {**AVAILABILITY, **changes}.items() if v is not None}
    with refused(message):
        parse_check_availability(params, CATALOG)


def test_availability_for_an_unknown_hotel_is_not_found() -> None:
    with pytest.raises(NotFound, match=r"^hotel_id: unknown hotel") as raised:
        parse_check_availability({**AVAILABILITY, "hotel_id": "h9999"}, CATALOG)
    assert raised.value.code == "not_found"


def test_the_largest_offset_a_store_can_page_by_is_accepted() -> None:
    assert parse_list_hotels({"offset": str(2**63 - 1)}).offset == 2**63 - 1


@pytest.mark.parametrize("field", ["customer_id", "card_token"])
def test_text_holding_nul_is_refused_before_it_reaches_the_store(field: str) -> None:
    with refused(f"{field}: must not contain NUL"):
        parse_create_booking(with_(**{field: "a\x00b"}), CATALOG)


def test_a_city_holding_nul_is_refused_and_a_booking_id_holding_it_names_no_booking() -> None:
    with refused("city: must not contain NUL"):
        parse_list_hotels({"city": "Por\x00to"})
    with pytest.raises(NotFound):
        parse_booking_id("b-\x001")
    assert parse_booking_id("b-1") == "b-1"
