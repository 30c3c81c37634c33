"""The booking state machine: legal moves, illegal moves, and the contract JSON shape."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from apps.booking.catalog import RoomType
from apps.booking.commands import CreateBooking
from apps.booking.errors import DomainError, ValidationError
from apps.booking.lifecycle import (
    TERMINAL_STATUSES,
    Booking,
    BookingStatus,
    IllegalTransition,
    NotCancellable,
    RejectionReason,
)

T0 = datetime(2026, 12, 1, 9, 30, 0, 123456, tzinfo=UTC)
T1 = T0 + timedelta(seconds=2)
ROOM = RoomType("h0001-r2", "h0001", "Deluxe", 10, 12_345)
COMMAND = CreateBooking(
    customer_id="c-1",
    room_type_id="h0001-r2",
    hotel_id="h0001",
    check_in=date(2027, 1, 10),
    nights=3,
    units=2,
    card_token="tok_visa",
)


def pending() -> Booking:
    return Booking.pending("b-1", COMMAND, ROOM, T0)


def booking_in(status: BookingStatus) -> Booking:
    booking = pending()
    if status is BookingStatus.CONFIRMED:
        return booking.confirm(T1)
    if status is BookingStatus.REJECTED:
        return booking.reject(RejectionReason.PAYMENT_DECLINED, T1)
    if status is BookingStatus.CANCELLED:
        return booking.confirm(T1).cancel(T1)
    return booking


def test_a_new_booking_is_pending_and_priced_for_every_night_and_unit() -> None:
    booking = pending()
    assert booking.status is BookingStatus.PENDING
    assert booking.reason is None
    assert booking.amount_cents == 12_345 * 3 * 2
    assert booking.hotel_id == "h0001"
    assert booking.created_at == booking.updated_at
    assert not booking.is_terminal


def test_a_booking_cannot_be_priced_with_another_room_type() -> None:
    other = RoomType("h0001-r1", "h0001", "Standard", 10, 100)
    with pytest.raises(ValidationError):
        Booking.pending("b-1", COMMAND, other, T0)


def test_a_pending_booking_confirms_and_keeps_its_creation_time() -> None:
    confirmed = pending().confirm(T1)
    assert confirmed.status is BookingStatus.CONFIRMED
    assert confirmed.reason is None
    assert confirmed.created_at == pending().created_at
    assert confirmed.updated_at > confirmed.created_at


@pytest.mark.parametrize("reason", list(RejectionReason))
def test_a_pending_booking_rejects_with_its_reason(reason: RejectionReason) -> None:
    rejected = pending().reject(reason, T1)
    assert rejected.status is BookingStatus.REJECTED
    assert rejected.reason is reason


def test_a_confirmed_booking_cancels() -> None:
    cancelled = pending().confirm(T1).cancel(T1)
    assert cancelled.status is BookingStatus.CANCELLED
    assert cancelled.is_terminal


def test_transitions_return_new_bookings_and_leave_the_original_alone() -> None:
    original = pending()
    original.confirm(T1)
    assert original.status is BookingStatus.PENDING


@pytest.mark.parametrize(
    "status", [BookingStatus.CONFIRMED, BookingStatus.REJECTED, BookingStatus.CANCELLED]
)
def test_only_a_pending_booking_can_confirm(status: BookingStatus) -> None:
    with pytest.raises(IllegalTransition) as raised:
        booking_in(status).confirm(T1)
    assert raised.value.code == "illegal_transition"


@pytest.mark.parametrize(
    "status", [BookingStatus.CONFIRMED, BookingStatus.REJECTED, BookingStatus.CANCELLED]
)
def test_only_a_pending_booking_can_be_rejected(status: BookingStatus) -> None:
    with pytest.raises(IllegalTransition):
        booking_in(status).reject(RejectionReason.SOLD_OUT, T1)


@pytest.mark.parametrize(
    "status", [BookingStatus.PENDING, BookingStatus.REJECTED, BookingStatus.CANCELLED]
)
def test_only_a_confirmed_booking_can_be_cancelled(status: BookingStatus) -> None:
    with pytest.raises(NotCancellable) as raised:
        booking_in(status).cancel(T1)
    assert raised.value.code == "not_cancellable"
    assert isinstance(raised.value, DomainError)


@pytest.mark.parametrize("rejection", [None, *RejectionReason])
def test_the_first_outcome_settles_a_pending_booking(rejection: RejectionReason | None) -> None:
    settled = pending().settle(rejection, T1)
    assert settled is not None
    expected = pending().confirm(T1) if rejection is None else pending().reject(rejection, T1)
    assert settled == expected


@pytest.mark.parametrize(
    "status", [BookingStatus.CONFIRMED, BookingStatus.REJECTED, BookingStatus.CANCELLED]
)
@pytest.mark.parametrize("rejection", [None, *RejectionReason])
def test_a_late_outcome_for_a_decided_booking_changes_nothing(
        status: BookingStatus, rejection: RejectionReason | None) -> None:
    assert booking_in(status).settle(rejection, T1) is None


def test_terminal_statuses_are_everything_but_pending() -> None:
    assert set(BookingStatus) - TERMINAL_STATUSES == {BookingStatus.PENDING}


def test_a_booking_serialises_to_the_contract_shape() -> None:
    assert pending().reject(RejectionReason.SOLD_OUT, T1).to_dict() == {
        "booking_id": "b-1",
        "customer_id": "c-1",
        "hotel_id": "h0001",
        "room_type_id": "h0001-r2",
        "check_in": "2027-01-10",
        "nights": 3,
        "units": 2,
        "amount_cents": 74_070,
        "status": "rejected",
        "reason": "sold_out",
        "created_at": "2026-12-01T09:30:00.123Z",
        "updated_at": "2026-12-01T09:30:02.123Z",
    }


def test_timestamps_are_shown_in_utc_whatever_zone_they_were_taken_in() -> None:
    lisbon_summer = timezone(timedelta(hours=1))
    at = datetime(2027, 6, 1, 12, 0, 0, 999_999, tzinfo=lisbon_summer)
    booking = Booking.pending("b-2", COMMAND, ROOM, at)
    assert booking.to_dict()["created_at"] == "2027-06-01T11:00:00.999Z"


def test_a_naive_timestamp_is_taken_as_utc() -> None:
    booking = Booking.pending("b-3", COMMAND, ROOM, datetime(2027, 1, 1, 0, 0, 0))
    assert booking.to_dict()["created_at"] == "2027-01-01T00:00:00.000Z"
    assert booking.created_at.tzinfo is not None


@pytest.mark.parametrize("status", list(BookingStatus))
def test_a_booking_rebuilt_from_its_dict_equals_the_original(status: BookingStatus) -> None:
    booking = booking_in(status)
    rebuilt = Booking.from_dict(booking.to_dict())
    assert rebuilt == booking
    assert rebuilt.to_dict() == booking.to_dict()
