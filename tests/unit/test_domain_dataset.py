"""The synthetic catalog: its shape, its determinism, and the spec's validation."""

import re
from datetime import date
from typing import Any

import pytest

from apps.booking.dataset import CITIES, DatasetSpec, generate_catalog
from apps.booking.errors import ValidationError


def test_the_default_dataset_has_twenty_hotels_of_three_room_types_over_sixty_nights() -> None:
    catalog = generate_catalog(DatasetSpec())
    assert len(catalog.hotels) == 20
    assert len(catalog.room_types()) == 60
    assert catalog.horizon.start_date == date(2027, 1, 1)
    assert catalog.horizon.end == date(2027, 3, 2)
    assert {rt.units for rt in catalog.room_types()} == {10}


def test_ids_follow_the_hotel_and_room_type_patterns() -> None:
    catalog = generate_catalog(DatasetSpec(hotels=12, room_types_per_hotel=8))
    assert [h.hotel_id for h in catalog.hotels] == [f"h{i:04d}" for i in range(1, 13)]
    for hotel in catalog.hotels:
        assert [rt.room_type_id for rt in hotel.room_types] == [
            f"{hotel.hotel_id}-r{j}" for j in range(1, 9)
        ]
        assert {rt.hotel_id for rt in hotel.room_types} == {hotel.hotel_id}


def test_room_type_names_are_unique_within_a_hotel_even_past_the_name_list() -> None:
    hotel = generate_catalog(DatasetSpec(hotels=1, room_types_per_hotel=9)).hotels[0]
    names = [rt.name for rt in hotel.room_types]
    assert len(set(names)) == 9
    assert names[0] == "Standard"


def test_rates_are_whole_cents_in_a_plausible_range_and_cities_come_from_the_list() -> None:
    catalog = generate_catalog(DatasetSpec(hotels=50, seed=3))
    for rt in catalog.room_types():
        assert isinstance(rt.nightly_rate_cents, int)
        assert 6_000 <= rt.nightly_rate_cents <= 40_000
    assert {h.city for h in catalog.hotels} == set(CITIES)


def test_equal_specs_give_equal_catalogs() -> None:
    assert generate_catalog(DatasetSpec(seed=42)) == generate_catalog(DatasetSpec(seed=42))


def test_another_seed_gives_other_rates() -> None:
    def rates(seed: int) -> list[int]:
        return [
            rt.nightly_rate_cents for rt in generate_catalog(DatasetSpec(seed=seed)).room_types()
        ]

    assert rates(1) != rates(2)


def test_the_catalog_for_a_seed_is_the_same_in_every_process() -> None:
    # Pinned values: a dependency on hash() or on the process would change them between runs.
    hotel = generate_catalog(DatasetSpec(hotels=2, seed=7)).hotels[1]
    assert (hotel.name, hotel.city) == PINNED_NAME_AND_CITY
    assert [rt.nightly_rate_cents for rt in hotel.room_types] == PINNED_RATES


PINNED_NAME_AND_CITY = ("Royal Porto Lodge", "Porto")
PINNED_RATES = [10_800, 24_700, 35_800]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hotels", 0),
        ("room_types_per_hotel", 0),
        ("units_per_room_type", 0),
        ("units_per_room_type", -3),
        ("hotels", True),
        ("hotels", 2.0),
        ("horizon_days", 0),
        ("horizon_days", 3661),
        ("start_date", "2027-01-01"),
        ("seed", "0"),
    ],
)
def test_an_impossible_dataset_spec_is_refused_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(ValidationError, match=f"^{re.escape(field)}: "):
        DatasetSpec(**{field: value})


@pytest.mark.parametrize("horizon_days", [1, 3660])
def test_horizons_from_one_night_to_ten_years_are_accepted(horizon_days: int) -> None:
    assert generate_catalog(
        DatasetSpec(hotels=1, horizon_days=horizon_days)
    ).horizon.horizon_days == (horizon_days)
