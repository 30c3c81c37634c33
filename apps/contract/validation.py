"""Turns untrusted decoded JSON and query parameters into commands and queries."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from apps.booking.catalog import Catalog, Hotel
from apps.booking.commands import CreateBooking
from apps.booking.errors import ValidationError
from apps.contract.errors import NotFound

MAX_NIGHTS = 14
MAX_UNITS = 5
MAX_CUSTOMER_ID = 64
MAX_CARD_TOKEN = 128
MAX_IDEMPOTENCY_KEY = 128
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# The largest offset a store can page by: a signed 64-bit integer (PostgreSQL's OFFSET).
MAX_OFFSET = 2**63 - 1

_REQUIRED_BOOKING_FIELDS = ("customer_id", "room_type_id", "check_in", "nights", "card_token")
_BOOKING_FIELDS = frozenset({*_REQUIRED_BOOKING_FIELDS, "units"})
# Stored text never holds NUL (U+0000): PostgreSQL's text refuses it. Input holding it is refused,
# and a lookup by it finds nothing, rather than failing in the store.
_NUL = "\x00"
# [0-9] rather than \d: \d also matches non-ASCII digits that int() and dates would accept.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DECIMAL = re.compile(r"[0-9]+")
# RFC 7240's `wait` preference, among others in a Prefer header ("respond-async, wait=5").
_PREFER_WAIT = re.compile(r'(?:^|[,;\s])wait\s*=\s*"?([0-9]{1,6}(?:\.[0-9]{1,6})?)"?(?:$|[,;\s])')
#: The longest a read waits for a pending booking to settle, whatever the client asks.
MAX_WAIT_S = 10.0


@dataclass(frozen=True, slots=True)
class ListHotels:
    city: str | None
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class CheckAvailability:
    hotel_id: str
    check_in: date
    nights: int


def parse_create_booking(body: object, catalog: Catalog) -> CreateBooking:
    if not isinstance(body, dict):
        raise ValidationError("body: must be a JSON object")
    for key in sorted(map(str, body)):
        if key not in _BOOKING_FIELDS:
            raise ValidationError(f"{key}: unexpected field")
    for key in _REQUIRED_BOOKING_FIELDS:
        if key not in body:
            raise ValidationError(f"{key}: is required")

    customer_id = _text(body["customer_id"], "customer_id", MAX_CUSTOMER_ID)
    room_type_id = body["room_type_id"]
    if not isinstance(room_type_id, str):
        raise ValidationError("room_type_id: must be a string")
    room_type = catalog.room_type(room_type_id)
    if room_type is None:
        raise ValidationError("room_type_id: unknown room type")
    check_in = _iso_date(body["check_in"], "check_in")
    nights = _bounded_int(body["nights"], "nights", 1, MAX_NIGHTS)
    units = _bounded_int(body.get("units", 1), "units", 1, MAX_UNITS)
    card_token = _text(body["card_token"], "card_token", MAX_CARD_TOKEN)
    _require_within_horizon(catalog, check_in, nights)
    return CreateBooking(
        customer_id=customer_id,
        room_type_id=room_type_id,
        hotel_id=room_type.hotel_id,
        check_in=check_in,
        nights=nights,
        units=units,
        card_token=card_token,
    )


def parse_idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    return _text(value, "Idempotency-Key", MAX_IDEMPOTENCY_KEY)


def parse_list_hotels(params: Mapping[str, str]) -> ListHotels:
    city = params.get("city") or None
    if city is not None and not storable(city):
        raise ValidationError("city: must not contain NUL")
    limit = _query_int(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _query_int(params, "offset", 0, 0, MAX_OFFSET)
    return ListHotels(city=city, limit=limit, offset=offset)


def parse_check_availability(params: Mapping[str, str], catalog: Catalog) -> CheckAvailability:
    hotel_id = params.get("hotel_id")
    if not hotel_id:
        raise ValidationError("hotel_id: is required")
    if not params.get("check_in"):
        raise ValidationError("check_in: is required")
    check_in = _iso_date(params["check_in"], "check_in")
    if not params.get("nights"):
        raise ValidationError("nights: is required")
    nights = _query_int(params, "nights", 1, 1, MAX_NIGHTS)
    _require_within_horizon(catalog, check_in, nights)
    # Malformed requests are 422 whichever hotel they name; only a well-formed one can be a 404.
    if catalog.hotel(hotel_id) is None:
        raise NotFound("hotel_id: unknown hotel")
    return CheckAvailability(hotel_id=hotel_id, check_in=check_in, nights=nights)


def parse_prefer_wait(header: str | None) -> float | None:
    """Seconds the client will wait for a pending booking to settle (RFC 7240 `Prefer: wait=N`),
    capped at MAX_WAIT_S; None when it asks for no wait. A preference is advisory: one that
    cannot be read is ignored, never refused."""
    if not header:
        return None
    found = _PREFER_WAIT.search(header)
    if found is None:
        return None
    return min(float(found.group(1)), MAX_WAIT_S)


def parse_booking_id(value: str) -> str:
    """A booking id from a path; one that cannot be stored names no booking."""
    if not storable(value):
        raise NotFound(f"booking {value} not found")
    return value


def storable(text: str) -> bool:
    """Whether `text` can be stored, and so name anything stored."""
    return _NUL not in text


def select_hotels(catalog: Catalog, query: ListHotels) -> list[Hotel]:
    hotels = catalog.hotels
    if query.city is not None:
        wanted = query.city.casefold()
        hotels = tuple(h for h in hotels if h.city.casefold() == wanted)
    ordered = sorted(hotels, key=lambda h: h.hotel_id)
    return ordered[query.offset : query.offset + query.limit]


def _text(value: object, field: str, max_length: int) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= max_length:
        raise ValidationError(f"{field}: must be a string of 1..{max_length} characters")
    if not storable(value):
        raise ValidationError(f"{field}: must not contain NUL")
    return value


def _bounded_int(value: object, field: str, low: int, high: int) -> int:
    # bool is an int subclass, and JSON true must not book one night.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"{field}: must be an integer between {low} and {high}")
    return value


def _iso_date(value: object, field: str) -> date:
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValidationError(f"{field}: must be a date formatted YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{field}: {value} is not a calendar date") from None


def _query_int(params: Mapping[str, str], field: str, default: int, low: int, high: int) -> int:
    raw = params.get(field)
    if raw is None:  # only an absent parameter takes the default: an empty one is no integer
        return default
    expected = f"an integer between {low} and {high}"
    if not _DECIMAL.fullmatch(raw):
        raise ValidationError(f"{field}: must be {expected}")
    try:
        value = int(raw)
    except ValueError:  # more digits than int() will parse
        raise ValidationError(f"{field}: must be {expected}") from None
    if not low <= value <= high:
        raise ValidationError(f"{field}: must be {expected}")
    return value


def _require_within_horizon(catalog: Catalog, check_in: date, nights: int) -> None:
    horizon = catalog.horizon
    if not horizon.contains_stay(check_in, nights):
        start, end = horizon.start_date.isoformat(), horizon.end.isoformat()
        raise ValidationError(f"check_in: stay must lie within {start}..{end}")
