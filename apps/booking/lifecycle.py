"""The booking aggregate and its states: pending -> confirmed | rejected; confirmed -> cancelled."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from apps.booking.errors import DomainError, ValidationError
from apps.booking.pricing import amount_cents

if TYPE_CHECKING:
    # Only for annotations: nothing of either is needed at run time.
    from apps.booking.catalog import RoomType
    from apps.booking.commands import CreateBooking


class BookingStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


TERMINAL_STATUSES: frozenset[BookingStatus] = frozenset(
    {BookingStatus.CONFIRMED, BookingStatus.REJECTED, BookingStatus.CANCELLED}
)


class RejectionReason(StrEnum):
    SOLD_OUT = "sold_out"
    PAYMENT_DECLINED = "payment_declined"


class IllegalTransition(DomainError):
    code = "illegal_transition"


class NotCancellable(DomainError):
    code = "not_cancellable"


@dataclass(frozen=True, slots=True)
class Booking:
    booking_id: str
    customer_id: str
    hotel_id: str
    room_type_id: str
    check_in: date
    nights: int
    units: int
    amount_cents: int
    status: BookingStatus
    reason: RejectionReason | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def pending(
        cls, booking_id: str, command: CreateBooking, room_type: RoomType, at: datetime
    ) -> Booking:
        if command.room_type_id != room_type.room_type_id:
            raise ValidationError("room_type_id: does not match the priced room type")
        moment = utc_millis(at)
        return cls(
            booking_id=booking_id,
            customer_id=command.customer_id,
            hotel_id=room_type.hotel_id,
            room_type_id=room_type.room_type_id,
            check_in=command.check_in,
            nights=command.nights,
            units=command.units,
            amount_cents=amount_cents(room_type.nightly_rate_cents, command.nights, command.units),
            status=BookingStatus.PENDING,
            reason=None,
            created_at=moment,
            updated_at=moment,
        )

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def confirm(self, at: datetime) -> Booking:
        self._require(BookingStatus.PENDING, BookingStatus.CONFIRMED)
        return replace(self, status=BookingStatus.CONFIRMED, updated_at=utc_millis(at))

    def reject(self, reason: RejectionReason, at: datetime) -> Booking:
        self._require(BookingStatus.PENDING, BookingStatus.REJECTED)
        return replace(
            self,
            status=BookingStatus.REJECTED,
            reason=RejectionReason(reason),
            updated_at=utc_millis(at),
        )

    def settle(self, rejection: RejectionReason | None, at: datetime) -> Booking | None:
        """The outcome of inventory and payment applied: confirmed when `rejection` is None,
        rejected otherwise; None when the booking was decided already.

        Outcomes arrive late and twice (a redelivered event, a recovery racing the request), and
        the first one decides: a later one changes nothing rather than being an error.
        """
        if self.is_terminal:
            return None
        return self.confirm(at) if rejection is None else self.reject(rejection, at)

    def cancel(self, at: datetime) -> Booking:
        if self.status != BookingStatus.CONFIRMED:
            raise NotCancellable(
                f"booking {self.booking_id} is {self.status}; only confirmed bookings cancel"
            )
        return replace(self, status=BookingStatus.CANCELLED, updated_at=utc_millis(at))

    def _require(self, source: BookingStatus, target: BookingStatus) -> None:
        if self.status != source:
            raise IllegalTransition(
                f"booking {self.booking_id} cannot go from {self.status} to {target}"
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "booking_id": self.booking_id,
            "customer_id": self.customer_id,
            "hotel_id": self.hotel_id,
            "room_type_id": self.room_type_id,
            "check_in": self.check_in.isoformat(),
            "nights": self.nights,
            "units": self.units,
            "amount_cents": self.amount_cents,
            "status": str(self.status),
            "reason": None if self.reason is None else str(self.reason),
            "created_at": format_timestamp(self.created_at),
            "updated_at": format_timestamp(self.updated_at),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Booking:
        reason = d["reason"]
        return cls(
            booking_id=d["booking_id"],
            customer_id=d["customer_id"],
            hotel_id=d["hotel_id"],
            room_type_id=d["room_type_id"],
            check_in=date.fromisoformat(d["check_in"]),
            nights=int(d["nights"]),
            units=int(d["units"]),
            amount_cents=int(d["amount_cents"]),
            status=BookingStatus(d["status"]),
            reason=None if reason is None else RejectionReason(reason),
            created_at=utc_millis(datetime.fromisoformat(d["created_at"])),
            updated_at=utc_millis(datetime.fromisoformat(d["updated_at"])),
        )


def utc_millis(at: datetime) -> datetime:
    """Aware UTC, truncated to the millisecond the contract shows, so to_dict/from_dict round-trip.

    A naive datetime is taken to be UTC already.
    """
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def format_timestamp(at: datetime) -> str:
    return utc_millis(at).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
