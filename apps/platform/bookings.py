"""A stored booking row as the domain's Booking: the same columns wherever a booking is read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.booking.lifecycle import Booking, BookingStatus, RejectionReason

# The contract's Booking fields, in its order: the columns of every table that stores one.
BOOKING_COLUMNS = (
    "booking_id, customer_id, hotel_id, room_type_id, check_in, nights, units, amount_cents, "
    "status, reason, created_at, updated_at"
)


def booking_from_row(row: Mapping[str, Any]) -> Booking:
    reason = row["reason"]
    return Booking(
        booking_id=row["booking_id"], customer_id=row["customer_id"], hotel_id=row["hotel_id"],
        room_type_id=row["room_type_id"], check_in=row["check_in"], nights=row["nights"],
        units=row["units"], amount_cents=row["amount_cents"], status=BookingStatus(row["status"]),
        reason=None if reason is None else RejectionReason(reason),
        created_at=row["created_at"], updated_at=row["updated_at"],
    )
