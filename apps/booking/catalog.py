"""Hotels, room types and the booking horizon: the reference data every service reads."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class RoomType:
    room_type_id: str
    hotel_id: str
    name: str
    units: int
    nightly_rate_cents: int


@dataclass(frozen=True, slots=True)
class Hotel:
    hotel_id: str
    name: str
    city: str
    room_types: tuple[RoomType, ...]


@dataclass(frozen=True, slots=True)
class Horizon:
    start_date: date
    horizon_days: int

    @property
    def end(self) -> date:
        """The first date that is no longer bookable (exclusive end, the last check-out day)."""
        return self.start_date + timedelta(days=self.horizon_days)

    def nights(self) -> list[date]:
        return [self.start_date + timedelta(days=i) for i in range(self.horizon_days)]

    def contains_stay(self, check_in: date, nights: int) -> bool:
        return self.start_date <= check_in and check_in + timedelta(days=nights) <= self.end


@dataclass(frozen=True, slots=True)
class Catalog:
    hotels: tuple[Hotel, ...]
    horizon: Horizon
    # Indexes are derived, so they are kept out of equality, hashing and repr.
    _hotels_by_id: dict[str, Hotel] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )
    _room_types_by_id: dict[str, RoomType] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        for hotel in self.hotels:
            self._hotels_by_id[hotel.hotel_id] = hotel
            for room_type in hotel.room_types:
                self._room_types_by_id[room_type.room_type_id] = room_type

    def hotel(self, hotel_id: str) -> Hotel | None:
        return self._hotels_by_id.get(hotel_id)

    def room_type(self, room_type_id: str) -> RoomType | None:
        return self._room_types_by_id.get(room_type_id)

    def room_types(self) -> tuple[RoomType, ...]:
        return tuple(self._room_types_by_id.values())


def hotel_to_dict(hotel: Hotel) -> dict[str, Any]:
    return {
        "hotel_id": hotel.hotel_id,
        "name": hotel.name,
        "city": hotel.city,
        "room_types": [
            {
                "room_type_id": rt.room_type_id,
                "name": rt.name,
                "units": rt.units,
                "nightly_rate_cents": rt.nightly_rate_cents,
            }
            for rt in hotel.room_types
        ],
    }


def catalog_from_rows(rows: Iterable[Sequence[Any]], start_date: date, horizon_days: int) -> Catalog:
    """Rebuild a catalog from stored rows of (hotel_id, hotel name, city, room_type_id, room type
    name, units, nightly_rate_cents), ordered by hotel then room type."""
    hotels: dict[str, tuple[str, str, list[RoomType]]] = {}
    for hotel_id, hotel_name, city, room_type_id, name, units, rate in rows:
        entry = hotels.setdefault(hotel_id, (hotel_name, city, []))
        entry[2].append(RoomType(room_type_id, hotel_id, name, units, rate))
    return Catalog(
        hotels=tuple(Hotel(hid, name, city, tuple(rts)) for hid, (name, city, rts) in hotels.items()),
        horizon=Horizon(start_date, horizon_days),
    )
