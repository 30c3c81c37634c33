"""Catalog lookups, the booking horizon and the hotel JSON shape."""

from datetime import date

from apps.booking.catalog import Catalog, Horizon, Hotel, RoomType, hotel_to_dict

HORIZON = Horizon(date(2027, 1, 1), 60)
R1 = RoomType("h0001-r1", "h0001", "Standard", 10, 8_000)
R2 = RoomType("h0001-r2", "h0001", "Suite", 2, 30_000)
R3 = RoomType("h0002-r1", "h0002", "Standard", 5, 7_000)
CATALOG = Catalog(
    hotels=(
        Hotel("h0001", "Grand Lisbon Hotel", "Lisbon", (R1, R2)),
        Hotel("h0002", "Park Porto Inn", "Porto", (R3,)),
    ),
    horizon=HORIZON,
)


def test_the_horizon_ends_the_day_after_its_last_night() -> None:
    assert HORIZON.end == date(2027, 3, 2)
    nights = HORIZON.nights()
    assert len(nights) == 60
    assert nights[0] == date(2027, 1, 1)
    assert nights[-1] == date(2027, 3, 1)


def test_a_stay_checking_out_on_the_horizon_end_fits() -> None:
    assert HORIZON.contains_stay(date(2027, 2, 28), 2)
    assert HORIZON.contains_stay(date(2027, 1, 1), 60)


def test_a_stay_running_past_the_horizon_or_starting_before_it_does_not_fit() -> None:
    assert not HORIZON.contains_stay(date(2027, 2, 28), 3)
    assert not HORIZON.contains_stay(date(2026, 12, 31), 1)
    assert not HORIZON.contains_stay(date(2027, 3, 2), 1)


def test_the_catalog_finds_hotels_and_room_types_by_id() -> None:
    assert CATALOG.hotel("h0002") == CATALOG.hotels[1]
    assert CATALOG.room_type("h0001-r2") == R2
    assert CATALOG.hotel("h9999") is None
    assert CATALOG.room_type("h0001-r9") is None


def test_the_catalog_lists_every_room_type_in_hotel_order() -> None:
    assert CATALOG.room_types() == (R1, R2, R3)


def test_catalogs_with_the_same_content_are_equal_and_hash_alike() -> None:
    twin = Catalog(hotels=CATALOG.hotels, horizon=HORIZON)
    assert twin == CATALOG
    assert hash(twin) == hash(CATALOG)
    assert twin != Catalog(hotels=CATALOG.hotels[:1], horizon=HORIZON)


def test_a_hotel_serialises_to_the_contract_shape() -> None:
    assert hotel_to_dict(CATALOG.hotels[0]) == {
        "hotel_id": "h0001",
        "name": "Grand Lisbon Hotel",
        "city": "Lisbon",
        "room_types": [
            {
                "room_type_id": "h0001-r1",
                "name": "Standard",
                "units": 10,
                "nightly_rate_cents": 8_000,
            },
            {"room_type_id": "h0001-r2", "name": "Suite", "units": 2, "nightly_rate_cents": 30_000},
        ],
    }
