"""What a stay costs and which nights it occupies."""

from datetime import date, timedelta


def amount_cents(nightly_rate_cents: int, nights: int, units: int) -> int:
    return nightly_rate_cents * nights * units


def stay_nights(check_in: date, nights: int) -> list[date]:
    return [check_in + timedelta(days=i) for i in range(nights)]


def stay_end(check_in: date, nights: int) -> date:
    """The check-out day: the first night the stay no longer occupies."""
    return check_in + timedelta(days=nights)
