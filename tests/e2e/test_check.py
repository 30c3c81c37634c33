"""The invariant checker on a live deployment of each architecture: a workload of confirmed,
declined, sold-out and cancelled bookings passes all five invariants, and each invariant reports
the ids of the data tampered with behind the apps' back."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.config.scenario import Scenario
from harness.deploy.deployment import deployed
from harness.results.checks import violations_of
from harness.verify.check import check_deployment, wait_quiescent
from tests.support.db import fetch
from tests.support.polling import wait_until

pytestmark = pytest.mark.e2e
TERMINAL = {"confirmed", "rejected", "cancelled"}
SCENARIO = Scenario.model_validate({
    "name": "check",
    "dataset": {"hotels": 3, "room_types_per_hotel": 2, "units_per_room_type": 3,
                "horizon_days": 30},
    "payment_provider": {"latency": "fixed:0.002", "decline_rate": 0.3},
})
NIGHTS = 3 * 2 * 30
FULL = {"room_type_id": "h0001-r1", "check_in": "2027-01-10", "nights": 2}  # sold out on purpose
UNTOUCHED = ("h0003-r2", "2027-01-02")  # no booking ever holds this night


@dataclass
class Live:
    architecture: str
    folder: Path
    state: dict[str, Any]
    bookings: dict[str, dict[str, Any]]  # booking id -> its last state seen over HTTP
    full_id: str  # the confirmed 3-unit booking that sold FULL out
    quiescence: dict[str, Any]

    def db(self, service: str) -> str:
        return self.state["databases"]["monolith" if self.architecture == "monolith" else service]

    def with_status(self, status: str) -> list[str]:
        return sorted(b for b, seen in self.bookings.items()
                      if seen["status"] == status and b != self.full_id)

    def check(self, replay: bool = False) -> dict[str, Any]:
        return check_deployment(self.state, self.folder, replay=replay)


def _book(api: httpx.Client, card: str = "tok_ok", **stay: Any) -> dict[str, Any]:
    """POST a booking and follow it to its terminal status (a 404 is the read side lagging)."""
    body = {"customer_id": "checker", "room_type_id": "h0002-r1", "check_in": "2027-01-05",
            "nights": 1, "units": 1, "card_token": card, **stay}
    created = api.post("/bookings", json=body)
    assert created.status_code in (201, 202), created.text
    return _follow(api, created.json()["booking_id"], TERMINAL)


def _follow(api: httpx.Client, booking_id: str, statuses: set[str]) -> dict[str, Any]:
    seen = wait_until(lambda: api.get(f"/bookings/{booking_id}"), 20,
                      f"booking {booking_id} reaching {statuses}", 0.02,
                      done=lambda seen: seen.status_code == 200 and seen.json()["status"] in statuses)
    return seen.json()


def _workload(api: httpx.Client) -> tuple[dict[str, dict[str, Any]], str]:
    """~30 bookings: one filling FULL (retried past random declines) and two refused as sold out,
    declined cards, a burst of eight competing for three rooms, a spread, and four cancellations."""
    made: dict[str, dict[str, Any]] = {}

    def keep(booking: dict[str, Any]) -> dict[str, Any]:
        made[booking["booking_id"]] = booking
        return booking

    full = None
    for _ in range(10):
        attempt = keep(_book(api, **FULL, units=3))
        if attempt["status"] == "confirmed":
            full = attempt
            break
    assert full is not None, "ten 3-unit bookings in a row were declined"
    for _ in range(2):
        assert keep(_book(api, **FULL))["reason"] == "sold_out"
    stays = ([{"card": "tok_decline", "room_type_id": f"h000{h}-r2", "check_in": "2027-01-15"}
              for h in (1, 2, 3)]
             + [{"room_type_id": "h0002-r1", "check_in": "2027-01-05"}] * 8
             + [{"room_type_id": f"h000{1 + i % 3}-r{1 + i % 2}", "check_in": f"2027-01-{16 + i}",
                 "nights": 1 + i % 3, "units": 1 + i % 2} for i in range(12)])
    with ThreadPoolExecutor(8) as pool:
        for booking in pool.map(lambda stay: _book(api, **stay), stays):
            keep(booking)
    confirmed = [b for b in made if made[b]["status"] == "confirmed" and b != full["booking_id"]]
    for booking_id in confirmed[:4]:
        assert api.post(f"/bookings/{booking_id}/cancel").status_code == 200
        keep(_follow(api, booking_id, {"cancelled"}))
    return made, full["booking_id"]


@pytest.fixture(scope="module", params=["monolith", "microservices"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp(f"check-{request.param}") / "deployment"
    with deployed(request.param, SCENARIO, root=folder, keep_data=False) as deployment, \
            httpx.Client(base_url=deployment.base_url, timeout=10) as api:
        made, full_id = _workload(api)
        state = json.loads((folder / "deployment.json").read_text())
        quiescence = wait_quiescent(state, timeout_s=60)
        yield Live(request.param, folder, state, made, full_id, quiescence)


def _violated(report: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    return {inv["number"]: inv["violations"] for inv in report["invariants"] if inv["violations"]}


def test_a_quiet_deployment_after_a_mixed_workload_holds_all_five_invariants(live: Live) -> None:
    report = check_deployment(live.state, live.folder, replay=True, quiescence=live.quiescence)

    seen = Counter(f"{b['status']}:{b['reason']}" if b["reason"] else b["status"]
                   for b in live.bookings.values())
    assert live.quiescence["quiescent"], live.quiescence
    assert violations_of(report) == []
    assert json.loads(json.dumps(report)) == report
    assert report["ok"] and report["totals"]["violations"] == 0
    assert report["totals"]["bookings"] == len(live.bookings) >= 26
    assert report["totals"]["by_status"] == dict(sorted(seen.items()))
    assert {"confirmed", "cancelled", "rejected:sold_out", "rejected:payment_declined"} <= set(seen)
    # every booking that held rooms was authorized once; every cancelled one refunded once
    assert report["totals"]["ledger_authorizations"] == len(live.bookings) - seen["rejected:sold_out"]
    assert report["totals"]["ledger_refunds"] == seen["cancelled"]
    checked = {inv["number"]: inv["checked"] for inv in report["invariants"]}
    assert checked[1]["room_type_nights"] == checked[2]["room_type_nights"] == NIGHTS
    assert checked[3]["bookings"] == checked[4]["bookings"] == len(live.bookings)
    if live.architecture == "microservices":
        assert checked[2]["reservations"] == len(live.bookings)
        assert checked[5]["booking_view"] == len(live.bookings)
        assert checked[5]["availability_view"] == NIGHTS
        assert checked[5]["booking_events_replayed"] > len(live.bookings)
        assert checked[5]["query_rows_replayed"] > NIGHTS
    else:
        assert checked[5] == {"databases": 1}


def test_a_hold_no_booking_explains_breaks_conservation(live: Live) -> None:
    dsn, (room_type, night) = live.db("inventory"), UNTOUCHED
    bump = "UPDATE inventory SET held = held + $3 WHERE room_type_id = $1 AND night = $2::text::date"
    fetch(dsn, bump, room_type, night, 1)
    try:
        violated = _violated(live.check())
    finally:
        fetch(dsn, bump, room_type, night, -1)

    assert [(v["room_type_id"], v["night"]) for v in violated[2]] == [UNTOUCHED]
    assert "holds 1, pending + confirmed bookings 0" in violated[2][0]["detail"]
    # the microservices' read model still shows the night as it was projected from the log
    assert set(violated) == ({2} if live.architecture == "monolith" else {2, 5})


def test_a_stay_grown_past_capacity_is_overbooking(live: Live) -> None:
    if live.architecture == "monolith":
        dsn, table = live.db("booking"), "UPDATE bookings SET units = $2 WHERE booking_id = $1"
    else:
        dsn, table = live.db("booking"), (
            "UPDATE booking_events SET payload = jsonb_set(payload, '{units}', to_jsonb($2::int)) "
            "WHERE aggregate_id = $1 AND type = 'BookingRequested'")
    fetch(dsn, table, live.full_id, 5)
    try:
        report = live.check()
    finally:
        fetch(dsn, table, live.full_id, 3)

    violated = _violated(report)
    assert json.loads(json.dumps(report)) == report

    overbooked = [v for v in violated[1] if "booking_ids" in v]
    assert [(v["room_type_id"], v["night"], v["booking_ids"]) for v in overbooked] == [
        ("h0001-r1", "2027-01-10", [live.full_id]), ("h0001-r1", "2027-01-11", [live.full_id])]
    assert "holds 5 > capacity 3" in overbooked[0]["detail"]
    assert {v["night"] for v in violated[2] if "night" in v} == {"2027-01-10", "2027-01-11"}
    assert set(violated) == ({1, 2} if live.architecture == "monolith" else {1, 2, 5})


def test_a_booking_sent_back_to_pending_is_not_terminal(live: Live) -> None:
    booking_id = live.with_status("confirmed")[0]
    dsn = live.db("booking")
    if live.architecture == "monolith":
        # created in the future so the monolith's recovery pass leaves it alone meanwhile
        before = fetch(dsn, "SELECT created_at FROM bookings WHERE booking_id = $1", booking_id)
        fetch(dsn, "UPDATE bookings SET status = 'pending', created_at = now() + interval '1 day' "
                  "WHERE booking_id = $1", booking_id)
        restore = ("UPDATE bookings SET status = 'confirmed', created_at = $2 WHERE booking_id = $1",
                   booking_id, before[0]["created_at"])
    else:
        confirmed = fetch(dsn, "DELETE FROM booking_events WHERE aggregate_id = $1 "
                              "AND type = 'BookingConfirmed' RETURNING *", booking_id)[0]
        restore = ("INSERT INTO booking_events (aggregate_id, sequence, event_id, type, payload, "
                   "occurred_at) VALUES ($1, $2, $3, $4, $5, $6)", *confirmed.values())
    try:
        quiescence = wait_quiescent(live.state, timeout_s=1.0)
        violated = _violated(live.check())
    finally:
        fetch(dsn, *restore)

    assert not quiescence["quiescent"] and quiescence["in_flight"]["pending_bookings"] == 1
    assert [(v["booking_id"], v["status"]) for v in violated[3]] == [(booking_id, "pending")]
    # the microservices' booking_view still says confirmed: the read side disagrees too
    assert set(violated) == ({3} if live.architecture == "monolith" else {3, 5})
    assert _violated(live.check()) == {}


def _ledger_lines(live: Live) -> list[dict[str, Any]]:
    path = live.folder / "payment_provider" / "ledger.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def ledger(live: Live) -> Iterator[Path]:
    """The provider's journal, put back byte for byte after the test tampered with it."""
    path = live.folder / "payment_provider" / "ledger.jsonl"
    original = path.read_bytes()
    yield path
    path.write_bytes(original)


def test_a_second_approved_authorization_is_a_duplicate_charge(live: Live, ledger: Path) -> None:
    booking_id = live.with_status("confirmed")[0]
    line = next(e for e in _ledger_lines(live) if e["kind"] == "authorization"
                and e["record"]["booking_id"] == booking_id)
    first = line["record"]["authorization_id"]
    line["record"] = {**line["record"], "authorization_id": "auth_duplicate",
                      "idempotency_key": "retried"}
    with ledger.open("a") as journal:
        journal.write(json.dumps(line) + "\n")

    violated = _violated(live.check())

    assert set(violated) == {4}
    assert [(v["booking_id"], v["authorization_ids"]) for v in violated[4]] == [
        (booking_id, sorted([first, "auth_duplicate"]))]
    assert "charged more than once" in violated[4][0]["detail"]


def test_a_lost_refund_and_a_charge_of_no_booking_break_the_money_invariant(
        live: Live, ledger: Path) -> None:
    cancelled = live.with_status("cancelled")[0]
    lines = _ledger_lines(live)
    refunded = {e["record"]["authorization_id"] for e in lines if e["kind"] == "authorization"
                and e["record"]["booking_id"] == cancelled}
    kept = [e for e in lines if not (e["kind"] == "refund"
                                     and e["record"]["authorization_id"] in refunded)]
    stranger = {**lines[0], "kind": "authorization", "record": {
        "authorization_id": "auth_stranger", "idempotency_key": "stranger", "booking_id": "b-stranger",
        "amount_cents": 100, "status": "approved", "created_at": "2027-01-01T00:00:00Z"}}
    ledger.write_text("".join(json.dumps(e) + "\n" for e in [*kept, stranger]))

    violated = _violated(live.check())

    assert set(violated) == {4}
    about = Counter(v["booking_id"] for v in violated[4])
    assert about == {cancelled: 2, "b-stranger": 1}  # no refund; the app's refund id unknown
    details = " | ".join(v["detail"] for v in violated[4])
    assert "was never refunded" in details and "which the ledger does not hold" in details
    assert "auth_stranger" in details


# the monolith has one database: its read side is its write side, nothing to drift or replay
@pytest.mark.parametrize("live", ["microservices"], indirect=True)
def test_a_read_model_that_drifted_from_the_log_is_caught_live_and_by_replay(live: Live) -> None:
    booking_id = live.with_status("confirmed")[0]
    dsn = live.db("query")
    fetch(dsn, "UPDATE booking_view SET status = 'rejected', reason = 'sold_out' "
              "WHERE booking_id = $1", booking_id)
    try:
        report = live.check(replay=True)
    finally:
        fetch(dsn, "UPDATE booking_view SET status = 'confirmed', reason = NULL "
                  "WHERE booking_id = $1", booking_id)

    violated = _violated(report)
    assert set(violated) == {5}
    live_diff, replayed = violated[5]
    assert live_diff["booking_id"] == booking_id
    assert "status rejected ≠ confirmed" in live_diff["detail"]
    assert replayed["service"] == "query" and replayed["details"] == [f"booking_view({booking_id})"]
