"""Helpers for the HTTP contract suite: inventory slots, booking workflows and shape checks.

Everything here talks HTTP only, so the same suite runs against either architecture.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit
from uuid import uuid4

import httpx

from tests.support.polling import wait_until

T = TypeVar("T")

# The seeded dataset: bookable nights are HORIZON_START .. HORIZON_START + HORIZON_NIGHTS - 1,
# so a stay must check out on HORIZON_END at the latest.
HORIZON_START = date(2027, 1, 1)
HORIZON_NIGHTS = 30
HORIZON_END = HORIZON_START + timedelta(days=HORIZON_NIGHTS)
# The last nights are never handed out as slots, so tests can rely on them being fully available.
UNTOUCHED_NIGHTS = 2
UNTOUCHED_CHECK_IN = HORIZON_END - timedelta(days=UNTOUCHED_NIGHTS)

WAIT_SECONDS = 10.0
POLL_SECONDS = 0.02
# After a request that must change nothing, look once more after this window: an asynchronous
# architecture that wrongly accepted it needs a moment before the write becomes visible.
GRACE_SECONDS = 0.3

APPROVED_CARD = "tok_visa"
DECLINED_CARD = "tok_decline"

BOOKING_KEYS = frozenset(
    {
        "booking_id",
        "customer_id",
        "hotel_id",
        "room_type_id",
        "check_in",
        "nights",
        "units",
        "amount_cents",
        "status",
        "reason",
        "created_at",
        "updated_at",
    }
)
STATUSES = frozenset({"pending", "confirmed", "rejected", "cancelled"})
TERMINAL = frozenset({"confirmed", "rejected", "cancelled"})
REASONS = frozenset({None, "sold_out", "payment_declined"})


class Deployment(Protocol):
    """What the `deployment` fixture offers (defined in tests/e2e/conftest.py)."""

    base_url: str
    architecture: str


# ---------------------------------------------------------------- waiting


def assert_stays(probe: Callable[[], T], expected: T, what: str) -> None:
    """`probe()` equals `expected` now and still does after the grace window."""
    assert probe() == expected, f"{what}: expected {expected!r}"
    time.sleep(GRACE_SECONDS)
    assert probe() == expected, f"{what}: changed to something else after {GRACE_SECONDS} s"


# ---------------------------------------------------------------- shapes


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    """The response is an error with this status and the contract's error body."""
    assert response.status_code == status, (
        f"expected {status} {code}, got {response.status_code}: {response.text}"
    )
    body = response.json()
    assert isinstance(body, dict), body
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict), body
    assert set(error) == {"code", "message"}, body
    assert isinstance(error["message"], str), body
    assert error["code"] == code, body


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def assert_booking_shape(booking: Any) -> None:
    """`booking` is a Booking: exactly the contract's keys, with the contract's types."""
    assert isinstance(booking, dict), booking
    assert set(booking) == BOOKING_KEYS, f"keys differ: {sorted(set(booking) ^ BOOKING_KEYS)}"
    for key in ("booking_id", "customer_id", "hotel_id", "room_type_id"):
        assert isinstance(booking[key], str) and booking[key], (key, booking)
    for key in ("nights", "units", "amount_cents"):
        assert _is_int(booking[key]), (key, booking)
    date.fromisoformat(booking["check_in"])
    created = datetime.fromisoformat(booking["created_at"])
    updated = datetime.fromisoformat(booking["updated_at"])
    assert created <= updated, booking
    assert booking["status"] in STATUSES, booking
    assert booking["reason"] in REASONS, booking
    if booking["status"] == "rejected":
        assert booking["reason"] is not None, f"a rejection carries its reason: {booking}"
    if booking["status"] in ("pending", "confirmed"):
        assert booking["reason"] is None, booking


def assert_booking_matches(booking: dict[str, Any], body: dict[str, Any], slot: Slot) -> None:
    """The booking is the one `body` asked for, priced at the slot's nightly rate."""
    units = body.get("units", 1)
    assert booking["customer_id"] == body["customer_id"]
    assert booking["hotel_id"] == slot.hotel_id
    assert booking["room_type_id"] == body["room_type_id"]
    assert booking["check_in"] == body["check_in"]
    assert booking["nights"] == body["nights"]
    assert booking["units"] == units
    assert booking["amount_cents"] == slot.nightly_rate_cents * body["nights"] * units


# ---------------------------------------------------------------- catalog and slots


@dataclass(frozen=True)
class RoomType:
    hotel_id: str
    room_type_id: str
    units: int
    nightly_rate_cents: int


@dataclass(frozen=True)
class Slot:
    """Nights of one room type that belong to a single test."""

    hotel_id: str
    room_type_id: str
    check_in: date
    nights: int
    units: int
    nightly_rate_cents: int

    def night(self, offset: int = 0) -> str:
        return (self.check_in + timedelta(days=offset)).isoformat()

    def body(self, customer_id: str, **changes: Any) -> dict[str, Any]:
        """A valid POST /bookings body for one unit over the whole slot, with `changes` applied."""
        body: dict[str, Any] = {
            "customer_id": customer_id,
            "room_type_id": self.room_type_id,
            "check_in": self.night(0),
            "nights": self.nights,
            "units": 1,
            "card_token": APPROVED_CARD,
        }
        body.update(changes)
        return body


def list_hotels(api: httpx.Client, **params: str | int) -> list[dict[str, Any]]:
    response = api.get("/hotels", params=params)
    assert response.status_code == 200, response.text
    hotels = response.json()["hotels"]
    assert isinstance(hotels, list), hotels
    return hotels


def room_types(api: httpx.Client) -> list[RoomType]:
    """Every room type of the deployment, read through GET /hotels page by page."""
    found: list[RoomType] = []
    for offset in itertools.count(0, 100):
        page = list_hotels(api, limit=100, offset=offset)
        for hotel in page:
            found.extend(
                RoomType(
                    hotel_id=hotel["hotel_id"],
                    room_type_id=room["room_type_id"],
                    units=room["units"],
                    nightly_rate_cents=room["nightly_rate_cents"],
                )
                for room in hotel["room_types"]
            )
        if len(page) < 100:
            return found
    raise AssertionError("unreachable")


class _SlotPool:
    """Hands out disjoint stretches of nights, round robin over the room types."""

    def __init__(self, rooms: list[RoomType]) -> None:
        assert rooms, "GET /hotels lists no room types"
        self._rooms = rooms
        self._next_night = [0] * len(rooms)
        self._turns: Iterator[int] = itertools.cycle(range(len(rooms)))
        self._lock = threading.Lock()

    def take(self, nights: int) -> Slot:
        last = HORIZON_NIGHTS - UNTOUCHED_NIGHTS
        with self._lock:
            for _ in range(len(self._rooms)):
                index = next(self._turns)
                start = self._next_night[index]
                if start + nights <= last:
                    self._next_night[index] = start + nights
                    room = self._rooms[index]
                    return Slot(
                        hotel_id=room.hotel_id,
                        room_type_id=room.room_type_id,
                        check_in=HORIZON_START + timedelta(days=start),
                        nights=nights,
                        units=room.units,
                        nightly_rate_cents=room.nightly_rate_cents,
                    )
        raise RuntimeError(
            f"the contract suite used up the seeded inventory ({len(self._rooms)} room types x "
            f"{last} nights); give tests shorter slots"
        )


_pools: dict[str, _SlotPool] = {}
_pools_lock = threading.Lock()


def take_slot(api: httpx.Client, nights: int = 2) -> Slot:
    """A stretch of `nights` nights of one room type that no other test will touch."""
    key = str(api.base_url)
    with _pools_lock:
        if key not in _pools:
            _pools[key] = _SlotPool(room_types(api))
        pool = _pools[key]
    return pool.take(nights)


def new_customer_id() -> str:
    return f"contract-{uuid4().hex}"


# ---------------------------------------------------------------- availability


def get_availability(
    api: httpx.Client, hotel_id: str, check_in: str, nights: int
) -> dict[str, Any]:
    response = api.get(
        "/availability", params={"hotel_id": hotel_id, "check_in": check_in, "nights": nights}
    )
    assert response.status_code == 200, response.text
    return response.json()


def available_units(
    api: httpx.Client, slot: Slot, first: int = 0, nights: int | None = None
) -> int:
    """Units of the slot's room type free for a stay starting `first` nights into the slot."""
    stay = slot.nights - first if nights is None else nights
    body = get_availability(api, slot.hotel_id, slot.night(first), stay)
    matching = [r for r in body["room_types"] if r["room_type_id"] == slot.room_type_id]
    assert len(matching) == 1, body
    return matching[0]["available_units"]


def wait_for_available_units(
    api: httpx.Client, slot: Slot, expected: int, first: int = 0, nights: int | None = None
) -> None:
    """Availability of the slot reaches `expected` (the read side may lag) and stays there."""

    def probe() -> int:
        return available_units(api, slot, first, nights)

    wait_until(probe, WAIT_SECONDS, f"{expected} available units in {slot}", POLL_SECONDS,
               done=lambda units: units == expected)
    assert_stays(probe, expected, f"available units in {slot}")


# ---------------------------------------------------------------- bookings


def get_booking(api: httpx.Client, booking_id: str) -> httpx.Response:
    return api.get(f"/bookings/{booking_id}")


def wait_for_booking(
    api: httpx.Client,
    booking_id: str,
    statuses: frozenset[str] | set[str],
    *,
    missing_is_pending: bool = False,
) -> dict[str, Any]:
    """Poll GET /bookings/{id} until its status is one of `statuses`.

    With `missing_is_pending`, a 404 means "not visible on the read side yet" (just after a 202).
    """

    def probe() -> dict[str, Any] | None:
        response = get_booking(api, booking_id)
        if response.status_code == 404 and missing_is_pending:
            return None
        assert response.status_code == 200, f"GET /bookings/{booking_id}: {response.text}"
        booking = response.json()
        assert_booking_shape(booking)
        assert booking["booking_id"] == booking_id, booking
        return booking

    booking = wait_until(
        probe,
        WAIT_SECONDS,
        f"booking {booking_id} to become {'/'.join(sorted(statuses))}",
        POLL_SECONDS,
        done=lambda b: b is not None and b["status"] in statuses,
    )
    assert booking is not None
    return booking


def assert_accepted_booking(response: httpx.Response) -> dict[str, Any]:
    """A POST /bookings answer that accepted the request: 201 terminal or 202 pending."""
    assert response.status_code in (201, 202), f"{response.status_code}: {response.text}"
    booking = response.json()
    assert_booking_shape(booking)
    if response.status_code == 201:
        assert booking["status"] in ("confirmed", "rejected"), booking
    else:
        assert booking["status"] == "pending", booking
    location = response.headers.get("location")
    assert location is not None, "POST /bookings answers with a Location header"
    assert urlsplit(location).path == f"/bookings/{booking['booking_id']}", location
    return booking


def book_and_wait(
    api: httpx.Client, body: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[httpx.Response, dict[str, Any]]:
    """POST /bookings and wait until the booking is confirmed or rejected.

    Returns the POST response and the booking as GET /bookings/{id} finally shows it.
    """
    response = api.post("/bookings", json=body, headers=headers)
    accepted = assert_accepted_booking(response)
    final = wait_for_booking(
        api,
        accepted["booking_id"],
        {"confirmed", "rejected"},
        missing_is_pending=response.status_code == 202,
    )
    if response.status_code == 201:
        assert final["status"] == accepted["status"], "a 201 announces the final status"
    return response, final


def cancel_and_wait(api: httpx.Client, booking_id: str) -> tuple[httpx.Response, dict[str, Any]]:
    """Cancel a booking (200 with status cancelled) and wait until reads show it cancelled."""
    response = api.post(f"/bookings/{booking_id}/cancel")
    assert response.status_code == 200, f"{response.status_code}: {response.text}"
    cancelled = response.json()
    assert_booking_shape(cancelled)
    assert cancelled["booking_id"] == booking_id, cancelled
    assert cancelled["status"] == "cancelled", cancelled
    final = wait_for_booking(api, booking_id, {"cancelled"})
    return response, final


def release_quietly(api: httpx.Client, booking_id: str) -> None:
    """Best effort: cancel a booking a defective server should never have made.

    Keeps one defect from eating rooms that other tests count on.
    """
    try:
        booking = wait_for_booking(api, booking_id, TERMINAL, missing_is_pending=True)
        if booking["status"] == "confirmed":
            api.post(f"/bookings/{booking_id}/cancel")
    except (AssertionError, httpx.HTTPError, ValueError):
        pass


def customer_bookings(api: httpx.Client, customer_id: str) -> list[dict[str, Any]]:
    response = api.get(f"/customers/{customer_id}/bookings")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"bookings"}, body
    assert isinstance(body["bookings"], list), body
    for booking in body["bookings"]:
        assert_booking_shape(booking)
        assert booking["customer_id"] == customer_id, booking
    return body["bookings"]


def wait_for_customer_bookings(
    api: httpx.Client, customer_id: str, expected_ids: set[str]
) -> list[dict[str, Any]]:
    """The customer's list shows these bookings, all terminal (the read side may lag)."""
    return wait_until(
        lambda: customer_bookings(api, customer_id),
        WAIT_SECONDS,
        f"customer {customer_id} to list {sorted(expected_ids)}",
        POLL_SECONDS,
        done=lambda bookings: (
            set(booking_ids(bookings)) >= expected_ids
            and all(b["status"] in TERMINAL for b in bookings)
        ),
    )


def booking_ids(bookings: list[dict[str, Any]]) -> list[str]:
    return [b["booking_id"] for b in bookings]
