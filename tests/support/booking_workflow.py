"""Invariants 1, 2 and 4 of DESIGN.md under random sequences of book, pay, decline, redeliver and
cancel, written once and run on every inventory backend.

`Desk` plays the booking workflow with an inventory backend and the domain's Booking (whose
`settle` ignores an outcome for a booking already decided, as both architectures do); the state
machine drives it and checks the invariants against an independent model of what should be held.
Subclasses say which backend: the in-memory twin (tests/unit) or the shared SQL on PostgreSQL
(tests/integration), so a hold in the real SQL that overbooks fails a test.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from apps.booking.commands import CreateBooking
from apps.booking.dataset import DatasetSpec, generate_catalog
from apps.booking.lifecycle import Booking, BookingStatus, NotCancellable, RejectionReason
from apps.booking.pricing import stay_nights

SPEC = DatasetSpec(hotels=1, room_types_per_hotel=2, units_per_room_type=3, horizon_days=6)
CATALOG = generate_catalog(SPEC)
ROOM_TYPE_IDS = [rt.room_type_id for rt in CATALOG.room_types()]
HOLDING = frozenset({BookingStatus.PENDING, BookingStatus.CONFIRMED})


class Desk:
    """The booking workflow on `inventory` (its methods called synchronously), with a fake card
    processor that records every money movement."""

    def __init__(self, inventory: Any) -> None:
        self.inventory = inventory
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
            customer_id="c-1", room_type_id=room_type_id, hotel_id=room_type.hotel_id,
            check_in=CATALOG.horizon.start_date + timedelta(days=start), nights=nights,
            units=units, card_token="tok_visa",
        )
        booking = Booking.pending(f"b-{len(self.bookings) + 1}", command, room_type, self._now())
        if not self.inventory.hold(room_type_id, booking.check_in, nights, units):
            booking = booking.reject(RejectionReason.SOLD_OUT, self._now())
        self.bookings[booking.booking_id] = booking
        return booking

    def payment_outcome(self, booking_id: str, approved: bool) -> None:
        rejection = None if approved else RejectionReason.PAYMENT_DECLINED
        # The decision comes first so a redelivered outcome stops before it can charge twice.
        settled = self.bookings[booking_id].settle(rejection, self._now())
        if settled is None:
            return
        if approved:
            self.authorizations[booking_id] += 1
        else:
            self._release(settled)
        self.bookings[booking_id] = settled

    def cancel(self, booking_id: str) -> None:
        cancelled = self.bookings[booking_id].cancel(self._now())
        self._release(cancelled)
        self.refunds[booking_id] += 1
        self.bookings[booking_id] = cancelled

    def _release(self, booking: Booking) -> None:
        self.inventory.release(booking.room_type_id, booking.check_in, booking.nights,
                               booking.units)

    def expected_held(self, room_type_id: str, night: date) -> int:
        return sum(
            b.units for b in self.bookings.values()
            if b.status in HOLDING and b.room_type_id == room_type_id
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
    """The rules; a subclass gives `fresh_inventory`, an empty inventory of CATALOG."""

    def __init__(self) -> None:
        super().__init__()
        self.desk = Desk(self.fresh_inventory())

    def fresh_inventory(self) -> Any:
        raise NotImplementedError

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
        room_type = CATALOG.room_type(room_type_id)
        assert room_type is not None
        room_free = min(
            room_type.units - self.desk.expected_held(room_type_id, night)
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
        self.desk.payment_outcome(booking_id, approved)
        booking = self.desk.bookings[booking_id]
        if approved:
            assert booking.status is BookingStatus.CONFIRMED
        else:
            assert booking.reason is RejectionReason.PAYMENT_DECLINED

    @precondition(lambda self: self._ids(is_terminal))
    @rule(data=st.data(), approved=st.booleans())
    def redeliver_a_payment_outcome(self, data: st.DataObject, approved: bool) -> None:
        booking_id = self._pick(data, is_terminal)
        before = self.desk.snapshot()
        self.desk.payment_outcome(booking_id, approved)
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
        holds = inventory.holds()
        for room_type in CATALOG.room_types():
            rt = room_type.room_type_id
            for night in CATALOG.horizon.nights():
                held = holds.get((rt, night), 0)
                assert 0 <= held <= room_type.units  # invariant 1
                assert inventory.available_for_stay(rt, night, 1) == room_type.units - held  # 2
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
