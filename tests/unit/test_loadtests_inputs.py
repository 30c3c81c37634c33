"""Inputs the load sends always exist in the dataset: known hotels and room types, stays inside the
horizon; known bookings are cancelled at most once."""

from __future__ import annotations

import datetime as dt
import random
import re

from loadtests.inputs import BookingLedger, InputPicker
from loadtests.plan import Dataset

DATASET = Dataset(hotels=23, room_types_per_hotel=3, start_date=dt.date(2027, 1, 1), horizon_days=10)


def test_hotels_and_room_types_are_the_datasets_ids() -> None:
    picker = InputPicker(DATASET, seed=0)
    hotels = {picker.hotel() for _ in range(2000)}
    assert hotels == {f"h{i:04d}" for i in range(1, 24)}
    room_types = {picker.room_type() for _ in range(5000)}
    assert all(re.fullmatch(r"h00(0[1-9]|1\d|2[0-3])-r[123]", r) for r in room_types)
    assert len(room_types) == 23 * 3


def test_every_stay_lies_inside_the_horizon() -> None:
    picker = InputPicker(DATASET, seed=1)
    end = DATASET.start_date + dt.timedelta(days=DATASET.horizon_days)
    seen_nights = set()
    for _ in range(5000):
        check_in, nights = picker.stay()
        first = dt.date.fromisoformat(check_in)
        assert 1 <= nights <= 7
        assert DATASET.start_date <= first and first + dt.timedelta(days=nights) <= end
        seen_nights.add(nights)
    assert seen_nights == set(range(1, 8))


def test_a_horizon_shorter_than_a_week_caps_the_nights() -> None:
    picker = InputPicker(Dataset(horizon_days=2), seed=0)
    assert {picker.stay() for _ in range(200)} <= {("2027-01-01", 1), ("2027-01-02", 1), ("2027-01-01", 2)}


def test_hotel_pages_start_at_multiples_of_20_below_the_hotel_count() -> None:
    picker = InputPicker(Dataset(hotels=45), seed=0)
    assert {picker.hotels_offset() for _ in range(300)} == {0, 20, 40}


def test_customers_come_from_a_seeded_pool_of_1000() -> None:
    picker = InputPicker(DATASET, seed=5)
    assert len(set(picker.customers)) == 1000 and picker.customers == InputPicker(DATASET, seed=5).customers
    assert picker.customers != InputPicker(DATASET, seed=6).customers
    assert all(1 <= len(c) <= 64 for c in picker.customers)
    assert {picker.customer() for _ in range(100)} <= set(picker.customers)


def test_each_confirmed_booking_is_handed_out_for_cancelling_once() -> None:
    ledger = BookingLedger(random.Random(0))
    assert ledger.take_cancellable() is None and ledger.any_known() is None
    for i in range(50):
        ledger.confirmed(f"b{i}")
    taken = [ledger.take_cancellable() for _ in range(50)]
    assert sorted(taken, key=str) == sorted((f"b{i}" for i in range(50)), key=str)
    assert ledger.take_cancellable() is None
    assert ledger.any_known() in {f"b{i}" for i in range(50)}  # still viewable once cancelled


def test_the_ledger_stays_bounded() -> None:
    ledger = BookingLedger(random.Random(0), limit=10)
    for i in range(100):
        ledger.confirmed(f"b{i}")
    taken = {ledger.take_cancellable() for _ in range(10)}
    assert taken == {f"b{i}" for i in range(90, 100)} and ledger.take_cancellable() is None
