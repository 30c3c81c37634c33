"""Invariants 1, 2 and 4 of DESIGN.md on the in-memory inventory (the rules: tests/booking_workflow.py)."""

from hypothesis import settings

from apps.booking.inventory import Inventory
from tests.support.booking_workflow import CATALOG, ROOM_TYPE_IDS, BookingWorkflow, Desk


class InMemoryWorkflow(BookingWorkflow):
    def fresh_inventory(self) -> Inventory:
        return Inventory.from_catalog(CATALOG)


InMemoryWorkflow.TestCase.settings = settings(max_examples=150, stateful_step_count=40,
                                              deadline=None)
test_random_booking_workflows_keep_the_invariants = InMemoryWorkflow.TestCase


def desk() -> Desk:
    return Desk(Inventory.from_catalog(CATALOG))


def test_a_declined_card_releases_the_rooms() -> None:
    d = desk()
    booking = d.request(ROOM_TYPE_IDS[0], 1, 2, 3)
    assert d.inventory.available_for_stay(ROOM_TYPE_IDS[0], booking.check_in, 2) == 0
    d.payment_outcome(booking.booking_id, approved=False)
    assert d.inventory.available_for_stay(ROOM_TYPE_IDS[0], booking.check_in, 2) == 3
    assert d.authorizations[booking.booking_id] == 0


def test_a_full_night_turns_the_next_request_away_as_sold_out() -> None:
    d = desk()
    d.request(ROOM_TYPE_IDS[1], 2, 1, 3)
    turned_away = d.request(ROOM_TYPE_IDS[1], 0, 4, 1)
    assert turned_away.reason is not None and turned_away.reason.value == "sold_out"
    assert (ROOM_TYPE_IDS[1], turned_away.check_in) not in d.inventory.holds()


def test_a_late_approval_of_a_declined_booking_charges_nothing() -> None:
    d = desk()
    booking = d.request(ROOM_TYPE_IDS[0], 0, 1, 1)
    d.payment_outcome(booking.booking_id, approved=False)
    d.payment_outcome(booking.booking_id, approved=True)
    assert d.bookings[booking.booking_id].status.value == "rejected"
    assert d.authorizations[booking.booking_id] == 0
    assert d.inventory.holds() == {}


def test_a_cancelled_booking_is_refunded_once_and_frees_its_rooms() -> None:
    d = desk()
    booking = d.request(ROOM_TYPE_IDS[0], 0, 1, 2)
    d.payment_outcome(booking.booking_id, approved=True)
    d.cancel(booking.booking_id)
    assert d.refunds[booking.booking_id] == 1
    assert d.inventory.holds() == {}
