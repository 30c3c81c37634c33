"""Random valid inputs drawn from the dataset's parameters, and the bookings the load has seen
confirmed. No business rule lives here: only which ids and dates exist."""

from __future__ import annotations

import datetime as dt
import random
from collections import deque

from loadtests.plan import Dataset

MAX_NIGHTS = 7
CUSTOMERS = 1000
PAGE = 20
KNOWN_BOOKINGS = 10_000


def hotel_id(i: int) -> str:
    return f"h{i:04d}"


def room_type_id(hotel: str, j: int) -> str:
    return f"{hotel}-r{j}"


class InputPicker:
    """Every pick lies inside the dataset: existing hotels and room types, stays inside the horizon."""

    def __init__(self, dataset: Dataset, seed: int, rng: random.Random | None = None) -> None:
        self.dataset = dataset
        self._rng = rng or random.Random(f"inputs-{seed}")
        self.customers = [f"lt{seed}-c{i:04d}" for i in range(CUSTOMERS)]

    def hotel(self) -> str:
        return hotel_id(self._rng.randint(1, self.dataset.hotels))

    def room_type(self) -> str:
        return room_type_id(self.hotel(), self._rng.randint(1, self.dataset.room_types_per_hotel))

    def stay(self) -> tuple[str, int]:
        """(check_in, nights): nights 1..7, every night inside the horizon."""
        nights = self._rng.randint(1, min(MAX_NIGHTS, self.dataset.horizon_days))
        first = self._rng.randint(0, self.dataset.horizon_days - nights)
        return (self.dataset.start_date + dt.timedelta(days=first)).isoformat(), nights

    def hotels_offset(self) -> int:
        return self._rng.randrange(0, self.dataset.hotels, PAGE)

    def customer(self) -> str:
        return self._rng.choice(self.customers)

    def choice(self, items: list[str]) -> str:
        return self._rng.choice(items)


class BookingLedger:
    """Confirmed booking ids the load has seen (bounded): viewed at will, each cancelled at most once."""

    def __init__(self, rng: random.Random, limit: int = KNOWN_BOOKINGS) -> None:
        self._rng = rng
        self._known: deque[str] = deque(maxlen=limit)
        self._cancellable: list[str] = []
        self._limit = limit

    def confirmed(self, booking_id: str) -> None:
        self._known.append(booking_id)
        if len(self._cancellable) >= self._limit:
            self._cancellable.pop(0)
        self._cancellable.append(booking_id)

    def any_known(self) -> str | None:
        return self._rng.choice(self._known) if self._known else None

    def take_cancellable(self) -> str | None:
        """Removes the id it returns, so no booking is cancelled twice by the load."""
        if not self._cancellable:
            return None
        i = self._rng.randrange(len(self._cancellable))
        self._cancellable[i], self._cancellable[-1] = self._cancellable[-1], self._cancellable[i]
        return self._cancellable.pop()
