"""Stay pricing and the nights a stay occupies."""

from datetime import date

from apps.booking.pricing import amount_cents, stay_nights


def test_a_stay_costs_the_rate_times_nights_times_units() -> None:
    assert amount_cents(9_950, 3, 2) == 59_700
    assert amount_cents(9_950, 1, 1) == 9_950


def test_prices_stay_in_whole_cents_for_large_stays() -> None:
    assert amount_cents(40_000, 14, 5) == 2_800_000


def test_a_stay_occupies_one_night_per_day_from_check_in() -> None:
    assert stay_nights(date(2027, 1, 30), 3) == [
        date(2027, 1, 30),
        date(2027, 1, 31),
        date(2027, 2, 1),
    ]


def test_a_stay_crosses_the_year_end_and_leap_days() -> None:
    assert stay_nights(date(2027, 12, 31), 2) == [date(2027, 12, 31), date(2028, 1, 1)]
    assert stay_nights(date(2028, 2, 28), 2) == [date(2028, 2, 28), date(2028, 2, 29)]
