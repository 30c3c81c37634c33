"""Deterministic synthetic catalogs built from a scenario's `dataset` section."""

import random
from dataclasses import dataclass
from datetime import date

from apps.booking.catalog import Catalog, Horizon, Hotel, RoomType
from apps.booking.errors import ValidationError

CITIES = ("Lisbon", "Porto", "Madrid", "Barcelona", "Paris", "Berlin", "Vienna", "Prague")
ROOM_TYPE_NAMES = ("Standard", "Superior", "Deluxe", "Junior Suite", "Suite", "Penthouse")
_NAME_PREFIXES = ("Grand", "Royal", "Old Town", "Harbour", "Garden", "Central", "Riverside", "Park")
_NAME_SUFFIXES = ("Hotel", "Inn", "Residence", "Palace", "Lodge", "Suites")
MIN_RATE_CENTS = 6_000
MAX_RATE_CENTS = 40_000
MAX_HORIZON_DAYS = 3660


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    hotels: int = 20
    room_types_per_hotel: int = 3
    units_per_room_type: int = 10
    start_date: date = date(2027, 1, 1)
    horizon_days: int = 60
    seed: int = 0

    @classmethod
    def from_mapping(cls, raw: dict) -> "DatasetSpec":
        """From decoded JSON: `start_date` may be an ISO date string."""
        fields = dict(raw)
        if isinstance(fields.get("start_date"), str):
            try:
                fields["start_date"] = date.fromisoformat(fields["start_date"])
            except ValueError:
                raise ValidationError("start_date: must be a date (YYYY-MM-DD)") from None
        return cls(**fields)

    def __post_init__(self) -> None:
        for name in ("hotels", "room_types_per_hotel", "units_per_room_type"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValidationError(f"{name}: must be an integer >= 1")
        if not _is_int(self.horizon_days) or not 1 <= self.horizon_days <= MAX_HORIZON_DAYS:
            raise ValidationError(
                f"horizon_days: must be an integer between 1 and {MAX_HORIZON_DAYS}"
            )
        if not isinstance(self.start_date, date):
            raise ValidationError("start_date: must be a date")
        if not _is_int(self.seed):
            raise ValidationError("seed: must be an integer")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def generate_catalog(spec: DatasetSpec) -> Catalog:
    # One seeded generator, consumed in a fixed order: equal specs give equal catalogs in any
    # process (hash() is salted per process, so it must never feed the data).
    rng = random.Random(spec.seed)
    hotels = []
    for i in range(1, spec.hotels + 1):
        hotel_id = f"h{i:04d}"
        city = CITIES[(i - 1) % len(CITIES)]
        name = f"{rng.choice(_NAME_PREFIXES)} {city} {rng.choice(_NAME_SUFFIXES)}"
        # Sorted so that the better-named room types cost more, as guests expect.
        rates = sorted(
            rng.randrange(MIN_RATE_CENTS, MAX_RATE_CENTS + 1, 100)
            for _ in range(spec.room_types_per_hotel)
        )
        room_types = tuple(
            RoomType(
                room_type_id=f"{hotel_id}-r{j}",
                hotel_id=hotel_id,
                name=_room_type_name(j),
                units=spec.units_per_room_type,
                nightly_rate_cents=rate,
            )
            for j, rate in enumerate(rates, start=1)
        )
        hotels.append(Hotel(hotel_id=hotel_id, name=name, city=city, room_types=room_types))
    return Catalog(hotels=tuple(hotels), horizon=Horizon(spec.start_date, spec.horizon_days))


def _room_type_name(j: int) -> str:
    base = ROOM_TYPE_NAMES[(j - 1) % len(ROOM_TYPE_NAMES)]
    lap = (j - 1) // len(ROOM_TYPE_NAMES)
    return base if lap == 0 else f"{base} {lap + 1}"
