"""`archbench replay` on a live microservices deployment: the JetStream log rebuilds the booking
aggregates and every read model exactly."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.deployments import ROOT, RunningUp, start_up
from tests.support.polling import wait_until

pytestmark = pytest.mark.e2e
SMALL = Path(__file__).with_name("small.yaml")
TERMINAL = {"confirmed", "rejected", "cancelled"}


@pytest.fixture
def microservices(tmp_path: Path) -> Iterator[RunningUp]:
    running = start_up("microservices", tmp_path / "deployment", "--scenario", str(SMALL))
    yield running
    assert running.stop() == (0, [])


def _wait_status(api: httpx.Client, booking_id: str, statuses: set[str]) -> dict:
    response = wait_until(lambda: api.get(f"/bookings/{booking_id}"), 20,
                          f"booking {booking_id} reaching {statuses}",
                          done=lambda seen: seen.status_code == 200 and seen.json()["status"] in statuses)
    return response.json()


def _wait_available(api: httpx.Client, expected: int) -> int:
    """Rooms of the cancelled booking come back once inventory has released them."""
    def units() -> int:
        body = api.get("/availability", params={"hotel_id": "h0002", "check_in": "2027-01-05",
                                                "nights": 2}).json()
        return body["room_types"][0]["available_units"]

    return wait_until(units, 10, f"{expected} units available again", done=lambda seen: seen == expected)


def _replay(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", "replay", str(folder)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})


def test_replay_rebuilds_the_live_state_from_the_log(microservices: RunningUp) -> None:
    with httpx.Client(base_url=microservices.base_url, timeout=10) as api:
        body = {"customer_id": "replay", "room_type_id": "h0002-r1", "check_in": "2027-01-05",
                "nights": 2, "card_token": "tok_ok"}
        ids = [api.post("/bookings", json=body).json()["booking_id"] for _ in range(4)]
        outcomes = [_wait_status(api, b, TERMINAL)["status"] for b in ids]
        # the declined one after the others: handled concurrently, its brief hold could
        # otherwise sell out a booking sent before it
        ids.append(api.post("/bookings", json={**body, "card_token": "tok_decline"}
                            ).json()["booking_id"])
        outcomes.append(_wait_status(api, ids[-1], TERMINAL)["status"])
        api.post(f"/bookings/{ids[0]}/cancel")
        _wait_status(api, ids[0], {"cancelled"})
        available = _wait_available(api, 1)

    # the refund and notification of the cancel may still be on their way: a replay taken
    # mid-flight may differ, a real difference never goes away
    result = wait_until(lambda: _replay(microservices.workdir), 60, "a replay equal to the live state", 0.5,
                        done=lambda done: done.returncode == 0)

    assert sorted(outcomes) == ["confirmed"] * 3 + ["rejected"] * 2
    assert available == 1
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:5]]
            for line in result.stdout.splitlines() if line.startswith("│")}
    assert set(rows) == {"booking", "query"}
    assert rows["booking"][0] == str(5 * 2 + 1)  # requested + outcome each, one cancel
    assert all(values[2] == "0" and int(values[1]) > 0 for values in rows.values())


def test_replay_of_a_folder_that_is_no_deployment_is_a_one_line_error(tmp_path: Path) -> None:
    result = _replay(tmp_path)

    assert result.returncode == 1
    assert "not a deployment folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
