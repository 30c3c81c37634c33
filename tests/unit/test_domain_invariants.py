"""Invariants 1, 2 and 4 of DESIGN.md under random sequences of book, pay, decline and cancel.

`Desk` plays the monolith's workflow in memory with the real Inventory and Booking; the state
machine drives it and checks the invariants against an independent model of what should be held.
"""

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from apps.booking.commands import CreateBooking
from apps.booking.dataset import DatasetSpec, generate_catalog
from apps.booking.inventory import Inventory, SoldOut
from apps.booking.lifecycle import (
    Booking,
    BookingStatus,
    IllegalTransition,
    NotCancellable,
    RejectionReason,
)
from apps.booking.pricing import stay_nights

CATALOG = generate_catalog(
    DatasetSpec(hotels=1, room_types_per_hotel=2, units_per_room_type=3, horizon_days=6)
)
ROOM_TYPE_IDS = [rt.room_type_id for rt in CATALOG.room_types()]
HOLDING = frozenset({BookingStatus.PENDING, BookingStatus.CONFIRMED})


class Desk:
    """The booking workflow with a fake card processor that records every money movement."""

    def __init__(self) -> None:
        self.inventory = Inventory.from_catalog(CATALOG)
        self.bookings: dict[str, Booking] = {}
        self.authorizations: Counter[str] = Counter()
        self.refunds: Counter[str] = Counter()
        self._clock = datetime(2026, 12, 1, tzinfo=UTC)

    def _now(self) -> datetime:
        self._clock += timedelta(milliseconds=5)
        return self._clock

    def request(self, room_type_id: str, start: int, nights: int, units: int) -> Booking:
        room_type = CATALOG.room_type(room_type_id)
        assert room_type is not None
        command = CreateBooking(
            customer_id="c-1",
            room_type_id=room_type_id,
            hotel_id=room_type.hotel_id,
            check_in=CATALOG.horizon.start_date + timedelta(days=start),
            nights=nights,
            units=units,
            card_token="tok_visa",
        )
        booking = Booking.pending(f"b-{len(self.bookings) + 1}", command, room_type, self._now())
        try:
            self.inventory.hold(room_type_id, booking.check_in, nights, units)
        except SoldOut:
            booking = booking.reject(RejectionReason.SOLD_OUT, self._now())
        self.bookings[booking.booking_id] = booking
        return booking

    def payment_approved(self, booking_id: str) -> None:
        # The transition comes first so a redelivered outcome fails before it can charge twice.
        confirmed = self.bookings[booking_id].confirm(self._now())
        self.authorizations[booking_id] += 1
        self.bookings[booking_id] = confirmed

    def payment_declined(self, booking_id: str) -> None:
        rejected = self.bookings[booking_id].reject(RejectionReason.PAYMENT_DECLINED, self._now())
        self._release(rejected)
        self.bookings[booking_id] = rejected

    def cancel(self, booking_id: str) -> None:
        cancelled = self.bookings[booking_id].cancel(self._now())
        self._release(cancelled)
        self.refunds[booking_id] += 1
        self.bookings[booking_id] = cancelled

    def _release(self, booking: Booking) -> None:
        self.inventory.release(
            booking.room_type_id, booking.check_in, booking.nights, booking.units
        )

    def expected_held(self, room_type_id: str, night: date) -> int:
        return sum(
            b.units
            for b in self.bookings.values()
            if b.status in HOLDING
            and b.room_type_id == room_type_id
            and night in stay_nights(b.check_in, b.nights)
        )

    def snapshot(self) -> tuple[object, ...]:
        return (self.inventory.holds(), dict(self.bookings), +self.authorizations, +self.refunds)


def is_pending(b: Booking) -> bool:
    return b.status is BookingStatus.PENDING


def is_confirmed(b: Booking) -> bool:
    return b.status is BookingStatus.CONFIRMED


def is_not_confirmed(b: Booking) -> bool:
    return not is_confirmed(b)


def is_terminal(b: Booking) -> bool:
    return b.is_terminal


class BookingWorkflow(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.desk = Desk()

    def _pick(self, data: st.DataObject, wanted: Callable[[Booking], bool]) -> str:
        return data.draw(st.sampled_from(self._ids(wanted)))

    def _ids(self, wanted: Callable[[Booking], bool]) -> list[str]:
        return sorted(i for i, b in self.desk.bookings.items() if wanted(b))

    @rule(
        room_type_id=st.sampled_from(ROOM_TYPE_IDS),
        start=st.integers(0, CATALOG.horizon.horizon_days - 1),
        data=st.data(),
        units=st.integers(1, 3),
    )
    def book(self, room_type_id: str, start: int, data: st.DataObject, units: int) -> None:
        nights = data.draw(st.integers(1, CATALOG.horizon.horizon_days - start))
        room_free = min(
            self.desk.inventory.capacity(room_type_id, night)
            - self.desk.expected_held(room_type_id, night)
            for night in stay_nights(CATALOG.horizon.start_date + timedelta(days=start), nights)
        )
        booking = self.desk.request(room_type_id, start, nights, units)
        if units <= room_free:
            assert booking.status is BookingStatus.PENDING
        else:
            assert booking.status is BookingStatus.REJECTED
            assert booking.reason is RejectionReason.SOLD_OUT

    @precondition(lambda self: self._ids(is_pending))
    @rule(data=st.data(), approved=st.booleans())
    def settle_payment(self, data: st.DataObject, approved: bool) -> None:
        booking_id = self._pick(data, is_pending)
        if approved:
            self.desk.payment_approved(booking_id)
            assert self.desk.bookings[booking_id].status is BookingStatus.CONFIRMED
        else:
            self.desk.payment_declined(booking_id)
            assert self.desk.bookings[booking_id].reason is RejectionReason.PAYMENT_DECLINED

    @precondition(lambda self: self._ids(is_terminal))
    @rule(data=st.data(), approved=st.booleans())
    def redeliver_a_payment_outcome(self, data: st.DataObject, approved: bool) -> None:
        booking_id = self._pick(data, is_terminal)
        before = self.desk.snapshot()
        outcome = self.desk.payment_approved if approved else self.desk.payment_declined
        with pytest.raises(IllegalTransition):
            outcome(booking_id)
        assert self.desk.snapshot() == before

    @precondition(lambda self: self._ids(is_confirmed))
    @rule(data=st.data())
    def cancel_a_confirmed_booking(self, data: st.DataObject) -> None:
        booking_id = self._pick(data, is_confirmed)
        self.desk.cancel(booking_id)
        assert self.desk.bookings[booking_id].status is BookingStatus.CANCELLED

    @precondition(lambda self: self._ids(is_not_confirmed))
    @rule(data=st.data())
    def try_to_cancel_a_booking_that_is_not_confirmed(self, data: st.DataObject) -> None:
        booking_id = self._pick(data, is_not_confirmed)
        before = self.desk.snapshot()
        with pytest.raises(NotCancellable):
            self.desk.cancel(booking_id)
        assert self.desk.snapshot() == before

    @invariant()
    def no_night_is_overbooked_and_every_unit_is_accounted_for(self) -> None:
        inventory = self.desk.inventory
        for room_type in CATALOG.room_types():
            rt = room_type.room_type_id
            for night in CATALOG.horizon.nights():
                capacity = inventory.capacity(rt, night)
                held = inventory.held(rt, night)
                assert capacity == room_type.units
                assert 0 <= held <= capacity  # invariant 1
                assert inventory.available(rt, night) == capacity - held  # invariant 2
                assert held == self.desk.expected_held(rt, night)  # invariant 2

    @invariant()
    def money_moves_once_per_confirmation_and_once_per_cancellation(self) -> None:
        desk = self.desk
        assert set(desk.authorizations) <= set(desk.bookings)
        assert set(desk.refunds) <= set(desk.bookings)
        for booking_id, booking in desk.bookings.items():
            was_confirmed = booking.status in {BookingStatus.CONFIRMED, BookingStatus.CANCELLED}
            assert desk.authorizations[booking_id] == (1 if was_confirmed else 0)
            refunded = booking.status is BookingStatus.CANCELLED
            assert desk.refunds[booking_id] == (1 if refunded else 0)


BookingWorkflow.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None
)
test_random_booking_workflows_keep_the_invariants = BookingWorkflow.TestCase


def test_a_declined_card_releases_the_rooms() -> None:
    desk = Desk()
    booking = desk.request(ROOM_TYPE_IDS[0], 1, 2, 3)
    assert desk.inventory.available_for_stay(ROOM_TYPE_IDS[0], booking.check_in, 2) == 0
    desk.payment_declined(booking.booking_id)
    assert desk.inventory.available_for_stay(ROOM_TYPE_IDS[0], booking.check_in, 2) == 3
    assert desk.authorizations[booking.booking_id] == 0


def test_a_full_night_turns_the_next_request_away_as_sold_out() -> None:
    desk = Desk()
    desk.request(ROOM_TYPE_IDS[1], 2, 1, 3)
    turned_away = desk.request(ROOM_TYPE_IDS[1], 0, 4, 1)
    assert turned_away.status is BookingStatus.REJECTED
    assert turned_away.reason is RejectionReason.SOLD_OUT
    assert desk.inventory.held(ROOM_TYPE_IDS[1], turned_away.check_in) == 0


def test_a_cancelled_booking_is_refunded_once_and_frees_its_rooms() -> None:
    desk = Desk()
    booking = desk.request(ROOM_TYPE_IDS[0], 0, 1, 2)
    desk.payment_approved(booking.booking_id)
    desk.cancel(booking.booking_id)
    with pytest.raises(NotCancellable):
        desk.cancel(booking.booking_id)
    assert desk.refunds[booking.booking_id] == 1
    assert desk.inventory.holds() == {}
