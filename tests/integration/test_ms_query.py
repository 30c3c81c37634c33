"""The query service as a real process on real PostgreSQL and NATS JetStream: events published to
the producers' streams become visible over HTTP, exactly once, and replaying the log rebuilds the
same read models."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from apps.booking.catalog import hotel_to_dict
from apps.booking.dataset import DatasetSpec, generate_catalog
from apps.booking.events import (
    BookingConfirmed,
    BookingRejected,
    BookingRequested,
    Event,
    InventoryReleased,
    InventoryReserved,
    NotificationSent,
    PaymentAuthorized,
    PaymentDeclined,
)
from apps.booking.lifecycle import RejectionReason
from apps.contract.validation import ListHotels, select_hotels
from apps.microservices.common import bus
from apps.microservices.common.envelope import Envelope, envelope_for, subject
from harness.deploy.nats import NatsServer
from harness.deploy.postgres import PostgresServer
from harness.deploy.supervisor import Supervisor, free_port
from tests.support.db import fetch
from tests.support.paths import ROOT
from tests.support.polling import wait_until
from tests.support.stacks import DATASET

pytestmark = pytest.mark.integration

ROOM = "h0001-r1"  # 3 units per night, 2 room types per hotel, in the integration dataset
HOTEL = "h0001"


@dataclass
class QueryStack:
    dsn: str
    nats_url: str
    url: str

    def publish(self, producer: str, *envelopes: Envelope, msg_id: str | None = None) -> None:
        async def go() -> None:
            nc, js = await bus.connect(self.nats_url, "test-publisher")
            try:
                await bus.ensure_stream(js, producer)
                for envelope in envelopes:
                    await js.publish(subject(producer, envelope.type), envelope.to_bytes(),
                                     headers={"Nats-Msg-Id": msg_id or envelope.event_id})
            finally:
                await nc.close()

        asyncio.run(go())

    def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return fetch(self.dsn, sql, *args)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", params=params, timeout=10)

    def booking_with(self, booking_id: str, status: str) -> dict[str, Any]:
        response = wait_until(lambda: self.get(f"/bookings/{booking_id}"), 15,
                              f"booking {booking_id} {status}",
                              done=lambda r: r.status_code == 200 and r.json()["status"] == status)
        return response.json()

    def available(self, room_type_id: str, check_in: str, nights: int) -> int:
        body = self.get("/availability", hotel_id=room_type_id.split("-")[0], check_in=check_in,
                        nights=nights).json()
        return next(r["available_units"] for r in body["room_types"]
                    if r["room_type_id"] == room_type_id)

    def replay(self) -> tuple[int, dict[str, Any]]:
        done = subprocess.run(
            [sys.executable, "-m", "apps.microservices", "query", "replay", "--dsn", self.dsn,
             "--nats", self.nats_url],
            cwd=ROOT, capture_output=True, text=True, check=False, timeout=120,
        )
        assert done.returncode in (0, 1), done.stderr
        return done.returncode, json.loads(done.stdout)


@pytest.fixture
def query(postgres: PostgresServer, nats_server: NatsServer, tmp_path: Path) -> Iterator[QueryStack]:
    dsn = postgres.create_database(f"query_{uuid.uuid4().hex[:12]}")
    init = subprocess.run(
        [sys.executable, "-m", "apps.microservices", "query", "init", "--dsn", dsn,
         "--dataset", json.dumps(DATASET)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert init.returncode == 0, init.stderr
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with Supervisor(tmp_path / "query") as supervisor:
        supervisor.start(
            "query", [sys.executable, "-m", "apps.microservices", "query", "serve", "--port",
                      str(port)],
            cwd=ROOT, timeout=60,
            env={"ARCHBENCH_DSN": dsn, "ARCHBENCH_NATS_URL": nats_server.url},
            health=lambda: httpx.get(f"{url}/health", timeout=1).status_code == 200,
        )
        yield QueryStack(dsn, nats_server.url, url)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def requested(booking_id: str, customer_id: str, *, room: str = ROOM, check_in: str = "2027-01-10",
              nights: int = 2, units: int = 1) -> BookingRequested:
    return BookingRequested(booking_id=booking_id, customer_id=customer_id,
                            hotel_id=room.split("-")[0], room_type_id=room,
                            check_in=date.fromisoformat(check_in), nights=nights, units=units,
                            amount_cents=10_000 * nights * units, card_token="tok_ok")


def wrap(event: Event, aggregate_id: str, at: datetime | None = None) -> Envelope:
    return envelope_for(event, aggregate_id=aggregate_id, occurred_at=at)


def reserved(booking_id: str, *, room: str = ROOM, check_in: str = "2027-01-10", nights: int = 2,
             units: int = 1) -> InventoryReserved:
    return InventoryReserved(booking_id=booking_id, room_type_id=room,
                             check_in=date.fromisoformat(check_in), nights=nights, units=units,
                             amount_cents=10_000, card_token="tok_ok")


def released(booking_id: str, *, room: str = ROOM, check_in: str = "2027-01-10", nights: int = 2,
             units: int = 1) -> InventoryReleased:
    return InventoryReleased(booking_id=booking_id, room_type_id=room,
                             check_in=date.fromisoformat(check_in), nights=nights, units=units)


def test_health_and_openapi_name_the_microservices_architecture(query: QueryStack) -> None:
    assert query.get("/health").json() == {"status": "ok", "architecture": "microservices"}
    document = query.get("/openapi.json").json()
    assert "/bookings/{booking_id}" in document["paths"]


def test_hotels_are_listed_from_the_replicated_catalog_like_the_monolith(query: QueryStack) -> None:
    spec = DatasetSpec(**{**DATASET, "start_date": date.fromisoformat(DATASET["start_date"])})
    catalog = generate_catalog(spec)
    expected = [hotel_to_dict(h) for h in select_hotels(catalog, ListHotels(None, 20, 0))]

    assert query.get("/hotels").json() == {"hotels": expected}
    assert query.get("/hotels", limit=1, offset=1).json() == {"hotels": expected[1:2]}
    city = expected[0]["city"]
    assert query.get("/hotels", city=city.upper()).json()["hotels"] == [
        h for h in expected if h["city"] == city
    ]


def test_a_booking_becomes_visible_pending_then_confirmed(query: QueryStack) -> None:
    booking_id, customer = new_id("b"), new_id("c")
    at = datetime(2026, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)
    query.publish("booking", wrap(requested(booking_id, customer), booking_id, at))

    pending = query.booking_with(booking_id, "pending")
    assert pending == {
        "booking_id": booking_id, "customer_id": customer, "hotel_id": HOTEL,
        "room_type_id": ROOM, "check_in": "2027-01-10", "nights": 2, "units": 1,
        "amount_cents": 20_000, "status": "pending", "reason": None,
        "created_at": "2026-06-01T12:00:00.123Z", "updated_at": "2026-06-01T12:00:00.123Z",
    }

    later = at + timedelta(seconds=2)
    query.publish("booking", wrap(BookingConfirmed(booking_id, customer, "auth-1", 20_000),
                                  booking_id, later))
    confirmed = query.booking_with(booking_id, "confirmed")
    assert confirmed["created_at"] == "2026-06-01T12:00:00.123Z"
    assert confirmed["updated_at"] == "2026-06-01T12:00:02.123Z"
    assert confirmed["reason"] is None


def test_a_read_that_prefers_to_wait_is_answered_when_the_booking_settles(
        query: QueryStack) -> None:
    booking_id, customer = new_id("b"), new_id("c")
    query.publish("booking", wrap(requested(booking_id, customer), booking_id))
    query.booking_with(booking_id, "pending")

    def waiting_read() -> httpx.Response:
        return httpx.get(f"{query.url}/bookings/{booking_id}", headers={"Prefer": "wait=8"},
                         timeout=20)

    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(waiting_read)
        time.sleep(0.5)  # the read reaches the server while the booking is pending
        query.publish("booking", wrap(BookingConfirmed(booking_id, customer, "auth-1", 20_000),
                                      booking_id))
        response = answer.result(timeout=20)

    # confirmed, and well before its 8 s: woken by the confirmation, not by the deadline
    assert response.status_code == 200 and response.json()["status"] == "confirmed"
    assert response.elapsed.total_seconds() < 6
    assert response.headers["Preference-Applied"] == "wait=8"


def test_a_read_that_prefers_to_wait_answers_pending_when_nothing_changes(
        query: QueryStack) -> None:
    booking_id, customer = new_id("b"), new_id("c")
    query.publish("booking", wrap(requested(booking_id, customer), booking_id))
    query.booking_with(booking_id, "pending")

    response = httpx.get(f"{query.url}/bookings/{booking_id}", headers={"Prefer": "wait=1"},
                         timeout=10)

    assert response.status_code == 200 and response.json()["status"] == "pending"
    assert response.elapsed.total_seconds() >= 1  # held for its whole wait


def test_a_waiting_read_of_an_unknown_booking_ends_in_404_after_its_wait(
        query: QueryStack) -> None:
    response = httpx.get(f"{query.url}/bookings/{new_id('b')}", headers={"Prefer": "wait=0.3"},
                         timeout=10)

    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert response.headers["Preference-Applied"] == "wait=0.3"


def test_a_rejected_booking_shows_its_reason(query: QueryStack) -> None:
    booking_id, customer = new_id("b"), new_id("c")
    query.publish("booking",
                  wrap(requested(booking_id, customer), booking_id),
                  wrap(BookingRejected(booking_id, customer, RejectionReason.SOLD_OUT, ROOM,
                                       date(2027, 1, 10), 2, 1), booking_id))

    assert query.booking_with(booking_id, "rejected")["reason"] == "sold_out"


def test_a_customers_bookings_are_listed_newest_first(query: QueryStack) -> None:
    customer = new_id("c")
    base = datetime(2026, 6, 1, tzinfo=UTC)
    ids = [new_id("b") for _ in range(3)]
    # Published oldest last, so the order seen can only come from created_at.
    query.publish("booking", *(wrap(requested(b, customer), b, base + timedelta(minutes=i))
                               for i, b in reversed(list(enumerate(ids)))))
    query.publish("booking", wrap(requested(new_id("b"), new_id("other")), "x"))

    def listed() -> list[str]:
        return [b["booking_id"] for b in query.get(f"/customers/{customer}/bookings").json()["bookings"]]

    assert wait_until(listed, 15, "the customer's three bookings listed",
                      done=lambda found: len(found) == 3) == list(reversed(ids))
    assert query.get(f"/customers/{new_id('nobody')}/bookings").json() == {"bookings": []}


def test_availability_drops_after_a_reservation_and_returns_after_a_release(
        query: QueryStack) -> None:
    booking_id = new_id("b")
    assert query.available(ROOM, "2027-01-10", 2) == 3

    query.publish("inventory", wrap(reserved(booking_id, units=2), booking_id))
    wait_until(lambda: query.available(ROOM, "2027-01-10", 2), 15, "one unit left", done=(1).__eq__)
    # Only the nights of the stay are held: the night after is untouched.
    assert query.available(ROOM, "2027-01-12", 1) == 3
    assert query.available(ROOM, "2027-01-09", 2) == 1
    body = query.get("/availability", hotel_id=HOTEL, check_in="2027-01-10", nights=2).json()
    assert body["hotel_id"] == HOTEL and body["check_in"] == "2027-01-10" and body["nights"] == 2
    other = next(r for r in body["room_types"] if r["room_type_id"] != ROOM)
    assert other["available_units"] == 3
    assert other["total_cents"] == other["nightly_rate_cents"] * 2

    query.publish("inventory", wrap(released(booking_id, units=2), booking_id))
    wait_until(lambda: query.available(ROOM, "2027-01-10", 2), 15, "all three units back",
               done=(3).__eq__)


def test_a_duplicate_delivery_changes_nothing(query: QueryStack) -> None:
    booking_id, marker = new_id("b"), new_id("b")
    duplicate = wrap(reserved(booking_id), booking_id)
    # Different Nats-Msg-Id: the stream's duplicate window lets both copies through.
    query.publish("inventory", duplicate, msg_id="first")
    query.publish("inventory", duplicate, msg_id="second")
    query.publish("inventory", wrap(reserved(marker, check_in="2027-01-20", nights=1), marker))

    # The stream is applied in order, so once the marker is visible both copies were handled.
    wait_until(lambda: query.available(ROOM, "2027-01-20", 1), 15, "the marker's unit held",
               done=(2).__eq__)
    assert query.available(ROOM, "2027-01-10", 2) == 2
    lag = query.fetch("SELECT count(*) AS n FROM read_lag WHERE event_id = $1", duplicate.event_id)
    assert lag[0]["n"] == 1


def test_each_applied_event_records_its_read_lag(query: QueryStack) -> None:
    booking_id = new_id("b")
    envelope = wrap(requested(booking_id, new_id("c")), booking_id)
    query.publish("booking", envelope)
    query.booking_with(booking_id, "pending")

    rows = query.fetch("SELECT type, occurred_at, applied_at, lag_ms FROM read_lag "
                       "WHERE event_id = $1", envelope.event_id)
    assert len(rows) == 1
    row = rows[0]
    assert row["type"] == "BookingRequested"
    assert row["occurred_at"] == envelope.occurred_at
    assert row["applied_at"] >= row["occurred_at"]
    expected_ms = (row["applied_at"] - row["occurred_at"]).total_seconds() * 1000
    assert row["lag_ms"] == pytest.approx(expected_ms, abs=0.01)


def test_read_errors_have_the_contract_body(query: QueryStack) -> None:
    def error_of(response: httpx.Response) -> tuple[int, str]:
        body = response.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
        return response.status_code, body["error"]["code"]

    assert error_of(query.get("/bookings/nope")) == (404, "not_found")
    assert error_of(query.get("/availability", hotel_id="h9999", check_in="2027-01-10",
                              nights=2)) == (404, "not_found")
    assert error_of(query.get("/availability", hotel_id=HOTEL, check_in="2027-01-10",
                              nights=15)) == (422, "validation_error")
    assert error_of(query.get("/availability", hotel_id=HOTEL, check_in="2030-01-10",
                              nights=1)) == (422, "validation_error")
    assert error_of(query.get("/availability", hotel_id=HOTEL)) == (422, "validation_error")
    assert error_of(query.get("/hotels", limit=0)) == (422, "validation_error")
    assert error_of(query.get("/no/such/path")) == (404, "not_found")


def test_replay_rebuilds_the_same_read_models_and_catches_a_tampered_row(
        query: QueryStack) -> None:
    customer = new_id("c")
    confirmed, rejected = new_id("b"), new_id("b")
    query.publish("booking",
                  wrap(requested(confirmed, customer), confirmed),
                  wrap(requested(rejected, customer, units=2), rejected))
    query.publish("inventory",
                  wrap(reserved(confirmed), confirmed),
                  wrap(reserved(rejected, units=2), rejected),
                  wrap(released(rejected, units=2), rejected))
    query.publish("payment",
                  wrap(PaymentAuthorized(confirmed, "auth-7", 20_000), confirmed),
                  wrap(PaymentDeclined(rejected, 40_000), rejected))
    query.publish("booking",
                  wrap(BookingConfirmed(confirmed, customer, "auth-7", 20_000), confirmed),
                  wrap(BookingRejected(rejected, customer, RejectionReason.PAYMENT_DECLINED, ROOM,
                                       date(2027, 1, 10), 2, 2), rejected))
    duplicate = wrap(NotificationSent(confirmed, customer, "BookingConfirmed"), confirmed)
    query.publish("notification", duplicate, msg_id="n-1")
    query.publish("notification", duplicate, msg_id="n-2")
    query.publish("notification",
                  wrap(NotificationSent(rejected, customer, "BookingRejected"), rejected))

    # Quiescence: every published event (the duplicate once) has been applied.
    wait_until(lambda: query.fetch("SELECT count(*) AS n FROM read_lag")[0]["n"], 15,
               "every published event applied", done=(11).__eq__)
    assert [tuple(r) for r in query.fetch(
        "SELECT booking_id, authorization_id, status FROM payment_view ORDER BY status")] == [
        (confirmed, "auth-7", "authorized"), (rejected, None, "declined")]
    assert query.fetch("SELECT count FROM notification_view WHERE booking_id = $1",
                       confirmed)[0]["count"] == 1

    code, report = query.replay()
    assert (code, report["differences"], report["details"]) == (0, 0, [])
    assert report["events_replayed"] == 11
    # 2 bookings + 2 room types x 2 hotels x 30 nights + 2 payments + 2 notification kinds
    assert report["rows_compared"] == 2 + 120 + 2 + 2

    query.fetch("UPDATE booking_view SET status = 'cancelled' WHERE booking_id = $1", confirmed)
    query.fetch("UPDATE availability_view SET held = held + 1 "
                "WHERE room_type_id = $1 AND night = '2027-01-25'", ROOM)
    code, report = query.replay()
    assert code == 1
    assert report["differences"] == 2
    assert sorted(report["details"]) == sorted(
        [f"booking_view({confirmed})", f"availability_view({ROOM}, 2027-01-25)"])
    leftover = query.fetch("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'replay_%'")
    assert leftover == []
