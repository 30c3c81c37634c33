"""Holding and releasing rooms: all-or-nothing, never past capacity."""

from datetime import date, timedelta

import pytest

from apps.booking.catalog import Catalog, Horizon, Hotel, RoomType
from apps.booking.errors import DomainError, NotFound
from apps.booking.inventory import Inventory, SoldOut

START = date(2027, 1, 1)
ROOM = "h0001-r1"
CATALOG = Catalog(
    hotels=(Hotel("h0001", "Inn", "Porto", (RoomType(ROOM, "h0001", "Standard", 3, 9_000),)),),
    horizon=Horizon(START, 10),
)


def day(n: int) -> date:
    return START + timedelta(days=n)


@pytest.fixture
def inventory() -> Inventory:
    return Inventory.from_catalog(CATALOG)


def test_every_night_starts_with_all_units_available(inventory: Inventory) -> None:
    for night in CATALOG.horizon.nights():
        assert inventory.capacity(ROOM, night) == 3
        assert inventory.held(ROOM, night) == 0
        assert inventory.available(ROOM, night) == 3


def test_a_hold_takes_units_on_each_night_of_the_stay_and_no_other(inventory: Inventory) -> None:
    inventory.hold(ROOM, day(2), 3, 2)
    assert [inventory.held(ROOM, day(n)) for n in range(6)] == [0, 0, 2, 2, 2, 0]
    assert inventory.available(ROOM, day(3)) == 1


def test_availability_for_a_stay_is_its_scarcest_night(inventory: Inventory) -> None:
    inventory.hold(ROOM, day(4), 1, 2)
    assert inventory.available_for_stay(ROOM, day(2), 5) == 1
    assert inventory.available_for_stay(ROOM, day(5), 2) == 3


def test_a_hold_that_does_not_fit_on_one_night_holds_nothing(inventory: Inventory) -> None:
    inventory.hold(ROOM, day(4), 1, 2)
    with pytest.raises(SoldOut) as raised:
        inventory.hold(ROOM, day(2), 5, 2)
    assert raised.value.code == "sold_out"
    assert inventory.holds() == {(ROOM, day(4)): 2}


def test_the_last_units_can_be_held_but_not_one_more(inventory: Inventory) -> None:
    inventory.hold(ROOM, day(0), 1, 3)
    assert inventory.available(ROOM, day(0)) == 0
    with pytest.raises(SoldOut):
        inventory.hold(ROOM, day(0), 1, 1)


def test_nights_outside_the_horizon_cannot_be_held(inventory: Inventory) -> None:
    assert inventory.capacity(ROOM, day(10)) == 0
    with pytest.raises(SoldOut):
        inventory.hold(ROOM, day(9), 2, 1)
    assert inventory.holds() == {}


def test_a_release_gives_the_units_back(inventory: Inventory) -> None:
    inventory.hold(ROOM, day(1), 2, 2)
    inventory.hold(ROOM, day(1), 1, 1)
    inventory.release(ROOM, day(1), 2, 2)
    assert inventory.holds() == {(ROOM, day(1)): 1}
    assert inventory.available(ROOM, day(2)) == 3


def test_releasing_more_than_is_held_is_a_bug_and_changes_nothing(inventory: Inventory) -> None:
    inventory.hold(ROOM, day(1), 1, 1)
    with pytest.raises(DomainError):
        inventory.release(ROOM, day(1), 2, 1)
    assert inventory.holds() == {(ROOM, day(1)): 1}


def test_an_unknown_room_type_is_not_found(inventory: Inventory) -> None:
    with pytest.raises(NotFound):
        inventory.hold("h0001-r9", day(1), 1, 1)
    with pytest.raises(NotFound):
        inventory.release("h0001-r9", day(1), 1, 1)
