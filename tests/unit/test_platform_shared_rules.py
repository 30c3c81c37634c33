"""The pure parts of the rules both architectures share: availability's minimum, booking rows,
settings from the environment, and the one retry policy."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime

import asyncpg
import pytest

from apps.booking.pricing import stay_end
from apps.platform import retry
from apps.platform.bookings import booking_from_row
from apps.platform.inventory import min_available
from apps.platform.settings import from_env


def test_available_units_are_the_fewest_free_on_any_night_of_the_stay() -> None:
    rows = [("r1", 3), ("r1", 1), ("r1", 2), ("r2", 0), ("r2", 5), ("r2", 4)]

    assert min_available(rows, 3) == {"r1": 1, "r2": 0}


def test_a_room_type_missing_a_night_of_the_stay_has_nothing_free() -> None:
    assert min_available([("r1", 3), ("r1", 2), ("r2", 3)], 2) == {"r1": 2, "r2": 0}


def test_a_booking_row_renders_as_the_contracts_booking() -> None:
    at = datetime(2027, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    row = {"booking_id": "b1", "customer_id": "c1", "hotel_id": "h0001",
           "room_type_id": "h0001-r1", "check_in": date(2027, 1, 10), "nights": 2, "units": 1,
           "amount_cents": 20_000, "status": "rejected", "reason": "payment_declined",
           "created_at": at, "updated_at": at}

    assert booking_from_row(row).to_dict() == {
        **row, "check_in": "2027-01-10", "created_at": "2027-01-02T03:04:05.678Z",
        "updated_at": "2027-01-02T03:04:05.678Z",
    }


def test_the_stay_ends_on_the_check_out_day() -> None:
    assert stay_end(date(2027, 1, 31), 2) == date(2027, 2, 2)


@dataclass(frozen=True)
class _Settings:
    dsn: str
    pool_max: int = 10
    timeout_s: float = 1.5


def test_settings_come_from_archbench_variables_converted_to_their_types() -> None:
    settings = from_env(_Settings, "app", {"ARCHBENCH_DSN": "postgres://x",
                                           "ARCHBENCH_POOL_MAX": "4", "OTHER": "1"})
    assert settings == _Settings("postgres://x", 4, 1.5)


def test_a_missing_setting_stops_the_process_naming_the_variable() -> None:
    with pytest.raises(SystemExit, match="app: set ARCHBENCH_DSN"):
        from_env(_Settings, "app", {"ARCHBENCH_POOL_MAX": "4"})


def test_a_transaction_that_lost_a_race_runs_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "FIRST_DELAY_S", 0.0)
    attempts = []

    async def work() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise asyncpg.DeadlockDetectedError("deadlock detected")
        return "done"

    assert asyncio.run(retry.retrying(work)) == "done"
    assert len(attempts) == 3


def test_a_race_lost_every_time_is_raised_after_the_last_attempt(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "FIRST_DELAY_S", 0.0)
    attempts = []

    async def work() -> None:
        attempts.append(1)
        raise asyncpg.SerializationError("could not serialize access")

    with pytest.raises(asyncpg.SerializationError):
        asyncio.run(retry.retrying(work))
    assert len(attempts) == retry.ATTEMPTS


def test_any_other_failure_is_not_retried() -> None:
    attempts = []

    async def work() -> None:
        attempts.append(1)
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        asyncio.run(retry.retrying(work))
    assert attempts == [1]
