"""Commands: requests to change the booking system, named in the imperative."""

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date

from apps.booking.lifecycle import RejectionReason


@dataclass(frozen=True, slots=True)
class Command:
    pass


@dataclass(frozen=True, slots=True)
class CreateBooking(Command):
    customer_id: str
    room_type_id: str
    hotel_id: str
    check_in: date
    nights: int
    units: int
    card_token: str

    def fingerprint(self) -> str:
        """Same request body, same fingerprint: spots an idempotency key reused for another body."""
        fields = asdict(self)
        fields["check_in"] = self.check_in.isoformat()
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(canonical.encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class CancelBooking(Command):
    booking_id: str


@dataclass(frozen=True, slots=True)
class ConfirmBooking(Command):
    booking_id: str
    authorization_id: str


@dataclass(frozen=True, slots=True)
class RejectBooking(Command):
    booking_id: str
    reason: RejectionReason


@dataclass(frozen=True, slots=True)
class ReserveInventory(Command):
    booking_id: str
    room_type_id: str
    check_in: date
    nights: int
    units: int


@dataclass(frozen=True, slots=True)
class ReleaseInventory(Command):
    booking_id: str
    room_type_id: str
    check_in: date
    nights: int
    units: int


@dataclass(frozen=True, slots=True)
class AuthorizePayment(Command):
    booking_id: str
    amount_cents: int
    card_token: str


@dataclass(frozen=True, slots=True)
class RefundPayment(Command):
    booking_id: str
    authorization_id: str
    amount_cents: int
