"""Room inventory per (room type, night), in memory: the twin of the shared SQL (apps.platform).

Both keep one contract, proven by one test suite run against each (tests/inventory_contract.py):
a hold is all-or-nothing and never exceeds capacity; a night that is not for sale (an unknown room
type, outside the horizon) has nothing to hold; releasing more than is held is refused.
"""

from collections.abc import Iterable
from datetime import date
from typing import Self

from apps.booking.catalog import Catalog, Horizon, RoomType
from apps.booking.errors import DomainError, ValidationError
from apps.booking.pricing import stay_nights


class NotHeld(DomainError):
    """A release of units the stay does not hold: a bug in the caller, so nothing changes."""

    code = "not_held"


class Inventory:
    """In-memory holds, for tests and for anything that keeps its state in memory."""

    def __init__(self, room_types: Iterable[RoomType], horizon: Horizon) -> None:
        self._units = {rt.room_type_id: rt.units for rt in room_types}
        self._horizon = horizon
        self._held: dict[tuple[str, date], int] = {}

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> Self:
        return cls(catalog.room_types(), catalog.horizon)

    def available_for_stay(self, room_type_id: str, check_in: date, nights: int) -> int:
        """The fewest units free on any night of the stay; 0 if a night is not for sale."""
        require_positive(nights=nights)
        units = self._units.get(room_type_id)
        if units is None or not self._horizon.contains_stay(check_in, nights):
            return 0
        return min(units - self._held.get((room_type_id, night), 0)
                   for night in stay_nights(check_in, nights))

    def hold(self, room_type_id: str, check_in: date, nights: int, units: int) -> bool:
        """Hold `units` on every night of the stay, or on none: False when one night is short."""
        require_positive(nights=nights, units=units)
        if self.available_for_stay(room_type_id, check_in, nights) < units:
            return False
        for night in stay_nights(check_in, nights):
            self._held[(room_type_id, night)] = self._held.get((room_type_id, night), 0) + units
        return True

    def release(self, room_type_id: str, check_in: date, nights: int, units: int) -> None:
        require_positive(nights=nights, units=units)
        keys = [(room_type_id, night) for night in stay_nights(check_in, nights)]
        if any(self._held.get(key, 0) < units for key in keys):
            raise NotHeld(f"{room_type_id}: releasing {units} units from {check_in} for {nights} "
                          "nights exceeds what is held")
        for key in keys:
            remaining = self._held[key] - units
            if remaining:
                self._held[key] = remaining
            else:
                del self._held[key]

    def holds(self) -> dict[tuple[str, date], int]:
        """Every non-zero hold, keyed by (room type, night)."""
        return dict(self._held)


def require_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise ValidationError(f"{name}: must be >= 1")
