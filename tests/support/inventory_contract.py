"""The inventory contract, one suite for every backend: the in-memory twin (tests/unit) and the
shared SQL on PostgreSQL (tests/integration) subclass `InventoryContract` and give it a fixture
`inventory` built from SPEC. The base is not a test class itself, so it is never collected alone.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from apps.booking.dataset import DatasetSpec, generate_catalog
from apps.booking.errors import ValidationError
from apps.booking.inventory import NotHeld

SPEC = DatasetSpec(hotels=1, room_types_per_hotel=1, units_per_room_type=3,
                   start_date=date(2027, 1, 1), horizon_days=10)
CATALOG = generate_catalog(SPEC)
ROOM = "h0001-r1"
START = SPEC.start_date


def day(n: int) -> date:
    return START + timedelta(days=n)


class InventoryContract:
    """What every inventory backend promises (`inventory` offers the methods synchronously)."""

    def test_every_night_starts_with_all_units_available(self, inventory: Any) -> None:
        assert inventory.holds() == {}
        for n in range(SPEC.horizon_days):
            assert inventory.available_for_stay(ROOM, day(n), 1) == 3
        assert inventory.available_for_stay(ROOM, START, SPEC.horizon_days) == 3

    def test_a_hold_takes_units_on_each_night_of_the_stay_and_no_other(self, inventory: Any) -> None:
        assert inventory.hold(ROOM, day(2), 3, 2) is True
        assert inventory.holds() == {(ROOM, day(2)): 2, (ROOM, day(3)): 2, (ROOM, day(4)): 2}
        assert inventory.available_for_stay(ROOM, day(3), 1) == 1
        assert inventory.available_for_stay(ROOM, day(5), 1) == 3

    def test_availability_for_a_stay_is_its_scarcest_night(self, inventory: Any) -> None:
        inventory.hold(ROOM, day(4), 1, 2)
        assert inventory.available_for_stay(ROOM, day(2), 5) == 1
        assert inventory.available_for_stay(ROOM, day(5), 2) == 3

    def test_a_hold_that_does_not_fit_on_one_night_holds_nothing(self, inventory: Any) -> None:
        inventory.hold(ROOM, day(4), 1, 2)
        assert inventory.hold(ROOM, day(2), 5, 2) is False
        assert inventory.holds() == {(ROOM, day(4)): 2}

    def test_the_last_units_can_be_held_but_not_one_more(self, inventory: Any) -> None:
        assert inventory.hold(ROOM, day(0), 1, 3) is True
        assert inventory.available_for_stay(ROOM, day(0), 1) == 0
        assert inventory.hold(ROOM, day(0), 1, 1) is False
        assert inventory.holds() == {(ROOM, day(0)): 3}

    def test_nights_outside_the_horizon_are_not_for_sale(self, inventory: Any) -> None:
        assert inventory.available_for_stay(ROOM, day(9), 2) == 0
        assert inventory.available_for_stay(ROOM, day(10), 1) == 0
        assert inventory.hold(ROOM, day(9), 2, 1) is False
        assert inventory.hold(ROOM, day(-1), 1, 1) is False
        assert inventory.holds() == {}

    def test_a_release_gives_the_units_back(self, inventory: Any) -> None:
        inventory.hold(ROOM, day(1), 2, 2)
        inventory.hold(ROOM, day(1), 1, 1)
        inventory.release(ROOM, day(1), 2, 2)
        assert inventory.holds() == {(ROOM, day(1)): 1}
        assert inventory.available_for_stay(ROOM, day(2), 1) == 3

    def test_releasing_more_than_is_held_is_refused_and_changes_nothing(self, inventory: Any
                                                                       ) -> None:
        inventory.hold(ROOM, day(1), 1, 1)
        with pytest.raises(NotHeld):
            inventory.release(ROOM, day(1), 2, 1)
        with pytest.raises(NotHeld):
            inventory.release(ROOM, day(1), 1, 2)
        assert inventory.holds() == {(ROOM, day(1)): 1}

    def test_an_unknown_room_type_has_nothing_to_hold_or_release(self, inventory: Any) -> None:
        assert inventory.available_for_stay("h0001-r9", day(1), 1) == 0
        assert inventory.hold("h0001-r9", day(1), 1, 1) is False
        with pytest.raises(NotHeld):
            inventory.release("h0001-r9", day(1), 1, 1)
        assert inventory.holds() == {}

    @pytest.mark.parametrize(("nights", "units"), [(0, 1), (1, 0), (-1, 1), (1, -2)])
    def test_a_stay_of_no_nights_or_no_units_is_invalid(self, inventory: Any, nights: int,
                                                        units: int) -> None:
        with pytest.raises(ValidationError):
            inventory.hold(ROOM, day(1), nights, units)
        inventory.hold(ROOM, day(1), 1, 1)
        with pytest.raises(ValidationError):
            inventory.release(ROOM, day(1), nights, units)
        assert inventory.holds() == {(ROOM, day(1)): 1}
