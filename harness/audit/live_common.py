"""What the live audit's two parts share: the deployed catalog, stays handed out in turn, and
checked HTTP answers."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from harness.config.errors import HarnessError
from harness.config.scenario import Scenario

POLL_S = 0.02
APPROVED_CARD = "tok_visa"
TERMINAL = frozenset({"confirmed", "rejected", "cancelled"})


@dataclass
class Catalog:
    """The deployed hotels and room types, and one-night one-unit stays handed out in turn over
    every (night, room type), so the audit's bookings are not sold out while capacity lasts."""

    hotels: list[str]
    room_types: list[str]
    scenario: Scenario
    _stays: Iterator[tuple[str, str]] = field(init=False)

    def __post_init__(self) -> None:
        start, nights = self.scenario.dataset.start_date, self.scenario.dataset.horizon_days
        self._stays = itertools.cycle([
            (room_type, (start + timedelta(days=night)).isoformat())
            for night in range(nights) for room_type in self.room_types
        ])

    def booking(self, customer_id: str) -> dict[str, Any]:
        room_type, check_in = next(self._stays)
        return {"customer_id": customer_id, "room_type_id": room_type, "check_in": check_in,
                "nights": 1, "units": 1, "card_token": APPROVED_CARD}

    def search(self, i: int) -> dict[str, Any]:
        dataset = self.scenario.dataset
        night = dataset.start_date + timedelta(days=i % dataset.horizon_days)
        return {"hotel_id": self.hotels[i % len(self.hotels)], "check_in": night.isoformat(),
                "nights": 1}


async def read_catalog(base_url: str, scenario: Scenario) -> Catalog:
    hotels: list[str] = []
    room_types: list[str] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        for offset in itertools.count(0, 100):
            response = expect(await client.get("/hotels", params={"limit": 100,
                                                                   "offset": offset}), 200)
            page = response.json()["hotels"]
            hotels += [h["hotel_id"] for h in page]
            room_types += [r["room_type_id"] for h in page for r in h["room_types"]]
            if len(page) < 100:
                break
    if not room_types:
        raise HarnessError("GET /hotels lists no room types: nothing to book")
    return Catalog(hotels, room_types, scenario)


def new_customer() -> str:
    return f"audit-{uuid.uuid4().hex[:16]}"


def expect(response: httpx.Response, *statuses: int) -> httpx.Response:
    if response.status_code not in statuses:
        raise HarnessError(f"{response.request.method} {response.request.url.path} answered "
                           f"{response.status_code}: {response.text[:300]}")
    return response
