"""The idempotency fingerprint of a booking request."""

import dataclasses
from datetime import date
from typing import Any

import pytest

from apps.booking.commands import CreateBooking

COMMAND = CreateBooking(
    customer_id="c-1",
    room_type_id="h0001-r1",
    hotel_id="h0001",
    check_in=date(2027, 1, 5),
    nights=2,
    units=1,
    card_token="tok_visa",
)


def test_the_same_request_has_the_same_fingerprint() -> None:
    twin = CreateBooking(**dataclasses.asdict(COMMAND))
    assert twin.fingerprint() == COMMAND.fingerprint()


def test_a_fingerprint_is_a_sha256_hex_digest() -> None:
    fingerprint = COMMAND.fingerprint()
    assert len(fingerprint) == 64
    assert set(fingerprint) <= set("0123456789abcdef")


def test_a_fingerprint_does_not_depend_on_the_process() -> None:
    # Pinned: a fingerprint stored by one process must match a retry served by another.
    assert COMMAND.fingerprint() == PINNED_FINGERPRINT


PINNED_FINGERPRINT = "f94f6b62da643b09750976050c8c3b3a4e7c59b13844bf58ab19dab68d798df5"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("customer_id", "c-2"),
        ("room_type_id", "h0001-r2"),
        ("hotel_id", "h0002"),
        ("check_in", date(2027, 1, 6)),
        ("nights", 3),
        ("units", 2),
        ("card_token", "tok_decline"),
    ],
)
def test_changing_any_field_changes_the_fingerprint(field: str, value: Any) -> None:
    changed = dataclasses.replace(COMMAND, **{field: value})
    assert changed.fingerprint() != COMMAND.fingerprint()
