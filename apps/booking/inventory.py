"""Room inventory per (room type, night): holds are all-or-nothing and never exceed capacity."""

from collections.abc import Iterable
from datetime import date
from typing import Self

from apps.booking.catalog import Catalog, Horizon, RoomType
from apps.booking.errors import DomainError, NotFound, ValidationError
from apps.booking.pricing import stay_nights


class SoldOut(DomainError):
    code = "sold_out"


class Inventory:
    """In-memory holds, for tests and for services that keep their state in memory."""

    def __init__(self, room_types: Iterable[RoomType], horizon: Horizon) -> None:
        self._units = {rt.room_type_id: rt.units for rt in room_types}
        self._horizon = horizon
        self._held: dict[tuple[str, date], int] = {}

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> Self:
        return cls(catalog.room_types(), catalog.horizon)

    def capacity(self, room_type_id: str, night: date) -> int:
        units = self._units.get(room_type_id)
        if units is None:
            raise NotFound(f"room_type_id: unknown room type {room_type_id!r}")
        # Nights outside the horizon are not for sale, so they have nothing to hold.
        return units if self._horizon.contains_stay(night, 1) else 0

    def held(self, room_type_id: str, night: date) -> int:
        return self._held.get((room_type_id, night), 0)

    def available(self, room_type_id: str, night: date) -> int:
        return self.capacity(room_type_id, night) - self.held(room_type_id, night)

    def available_for_stay(self, room_type_id: str, check_in: date, nights: int) -> int:
        _require_positive(nights=nights)
        return min(self.available(room_type_id, night) for night in stay_nights(check_in, nights))

    def hold(self, room_type_id: str, check_in: date, nights: int, units: int) -> None:
        _require_positive(nights=nights, units=units)
        # Check every night before touching any, so a refusal leaves nothing behind.
        if self.available_for_stay(room_type_id, check_in, nights) < units:
            raise SoldOut(
                f"{room_type_id}: fewer than {units} units free for {nights} nights from {check_in}"
            )
        for night in stay_nights(check_in, nights):
            self._held[(room_type_id, night)] = self.held(room_type_id, night) + units

    def release(self, room_type_id: str, check_in: date, nights: int, units: int) -> None:
        _require_positive(nights=nights, units=units)
        self.capacity(room_type_id, check_in)  # an unknown room type is NotFound, not a bug
        nights_held = stay_nights(check_in, nights)
        if any(self.held(room_type_id, night) < units for night in nights_held):
            raise DomainError(
                f"{room_type_id}: releasing {units} units from {check_in} for {nights} nights "
                "exceeds what is held"
            )
        for night in nights_held:
            remaining = self.held(room_type_id, night) - units
            if remaining:
                self._held[(room_type_id, night)] = remaining
            else:
                del self._held[(room_type_id, night)]

    def holds(self) -> dict[tuple[str, date], int]:
        """A copy of every non-zero hold, keyed by (room type, night)."""
        return dict(self._held)


def _require_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise ValidationError(f"{name}: must be >= 1")
