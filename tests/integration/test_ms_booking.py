"""The booking service as a real process: commands are recorded before they are handled, the
aggregate lives only as its events, outcomes advance it once, and the log rebuilds it exactly."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections import Counter
from typing import Any

import httpx
import pytest

from apps.booking.events import InventoryRejected, PaymentAuthorized, PaymentDeclined
from tests.integration.ms_support import CHECK_IN, ROOM, Deployment, EventBus, Service
from tests.support.paths import ROOT
from tests.support.polling import wait_until_async

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
def booking(deployment: Deployment) -> Service:
    return deployment.start_service("booking")


def _body(**changes: Any) -> dict[str, Any]:
    return {"customer_id": "c-1", "room_type_id": ROOM, "check_in": CHECK_IN.isoformat(),
            "nights": 2, "card_token": "tok_ok", **changes}


async def _post(service: Service, path: str, body: Any = None,
                headers: dict[str, str] | None = None) -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{service.port}", timeout=10) as c:
        return await c.post(path, json=body, headers=headers)


async def _events_of(service: Service, booking_id: str) -> list[tuple[int, str]]:
    rows = await service.fetch("SELECT sequence, type FROM booking_events WHERE aggregate_id = $1 "
                               "ORDER BY sequence", booking_id)
    return [(r["sequence"], r["type"]) for r in rows]


def _authorized(booking_id: str) -> PaymentAuthorized:
    return PaymentAuthorized(booking_id=booking_id, authorization_id="auth_1", amount_cents=16_000)


async def test_a_request_is_recorded_as_a_command_then_as_its_first_event(booking: Service) -> None:
    response = await _post(booking, "/bookings", _body(), {"Idempotency-Key": "k1"})

    assert response.status_code == 202
    created = response.json()
    assert created["status"] == "pending"
    assert await _events_of(booking, created["booking_id"]) == [(1, "BookingRequested")]
    commands = await booking.fetch("SELECT type, idempotency_key, outcome, booking_id FROM commands")
    assert [dict(r) for r in commands] == [{"type": "CreateBooking", "idempotency_key": "k1",
                                            "outcome": "accepted",
                                            "booking_id": created["booking_id"]}]
    async with EventBus(booking.env["ARCHBENCH_NATS_URL"]) as bus:
        await wait_until_async(lambda: _has(bus, "booking", ["BookingRequested"]), 20, "relayed to the log")


async def _has(bus: EventBus, producer: str, types: list[str]) -> bool:
    return await bus.types(producer) == types


async def test_an_outcome_delivered_twice_advances_the_aggregate_once(booking: Service) -> None:
    booking_id = (await _post(booking, "/bookings", _body())).json()["booking_id"]
    async with EventBus(booking.env["ARCHBENCH_NATS_URL"]) as bus:
        envelope = await bus.emit("payment", _authorized(booking_id), booking_id)
        await bus.publish("payment", envelope, msg_id="second-delivery")
        await wait_until_async(lambda: _has(bus, "booking", ["BookingRequested", "BookingConfirmed"]), 20,
                               "one BookingConfirmed")
        await wait_until_async(lambda: bus.handled_all("booking", "payment"), 20,
                               "both deliveries handled")
        assert await bus.types("booking") == ["BookingRequested", "BookingConfirmed"]
    assert await _events_of(booking, booking_id) == [(1, "BookingRequested"),
                                                    (2, "BookingConfirmed")]


@pytest.mark.parametrize(("outcome", "reason"), [
    (lambda b: PaymentDeclined(booking_id=b, amount_cents=16_000), "payment_declined"),
    (lambda b: InventoryRejected(booking_id=b, room_type_id=ROOM, check_in=CHECK_IN, nights=2,
                                 units=1), "sold_out"),
], ids=["declined", "sold_out"])
async def test_a_negative_outcome_rejects_with_its_reason(booking: Service, outcome: Any,
                                                          reason: str) -> None:
    booking_id = (await _post(booking, "/bookings", _body())).json()["booking_id"]
    producer = "payment" if reason == "payment_declined" else "inventory"
    async with EventBus(booking.env["ARCHBENCH_NATS_URL"]) as bus:
        await bus.emit(producer, outcome(booking_id), booking_id)
        await wait_until_async(lambda: _has(bus, "booking", ["BookingRequested", "BookingRejected"]), 20,
                               "BookingRejected")
        rejected = (await bus.events("booking"))[-1]
    assert rejected.payload["reason"] == reason
    assert rejected.causation_id is not None


async def test_concurrent_cancels_append_one_event_and_the_rest_are_refused(
        booking: Service) -> None:
    booking_id = (await _post(booking, "/bookings", _body())).json()["booking_id"]
    early = await _post(booking, f"/bookings/{booking_id}/cancel")
    assert early.status_code == 409 and early.json()["error"]["code"] == "not_cancellable"
    async with EventBus(booking.env["ARCHBENCH_NATS_URL"]) as bus:
        await bus.emit("payment", _authorized(booking_id), booking_id)
        await wait_until_async(lambda: _has(bus, "booking", ["BookingRequested", "BookingConfirmed"]), 20,
                               "confirmed")

    responses = await asyncio.gather(*(_post(booking, f"/bookings/{booking_id}/cancel")
                                       for _ in range(8)))

    assert Counter(r.status_code for r in responses) == {200: 1, 409: 7}
    assert await _events_of(booking, booking_id) == [
        (1, "BookingRequested"), (2, "BookingConfirmed"), (3, "BookingCancelled")]
    outcomes = Counter(r["outcome"] for r in await booking.fetch(
        "SELECT outcome FROM commands WHERE type = 'CancelBooking'"))
    assert outcomes == {"not_cancellable": 8, "accepted": 1}


async def test_replaying_the_log_rebuilds_every_aggregate_and_notices_tampering(
        booking: Service) -> None:
    ids = [(await _post(booking, "/bookings", _body(customer_id=f"c{i}"))).json()["booking_id"]
           for i in range(3)]
    async with EventBus(booking.env["ARCHBENCH_NATS_URL"]) as bus:
        await bus.emit("payment", _authorized(ids[0]), ids[0])
        await bus.emit("payment", PaymentDeclined(booking_id=ids[1], amount_cents=16_000), ids[1])
        await wait_until_async(lambda: _count(bus, 5), 20, "five booking events in the log")

    clean = _replay(booking)
    await booking.fetch("UPDATE booking_events SET occurred_at = occurred_at + interval '1 second' "
                        "WHERE aggregate_id = $1 AND sequence = 2", ids[0])
    tampered = _replay(booking)

    assert (clean["events_replayed"], clean["rows_compared"], clean["differences"]) == (5, 3, 0)
    assert tampered["differences"] == 1 and tampered["details"] == [ids[0]]


async def _count(bus: EventBus, n: int) -> bool:
    return len(await bus.types("booking")) == n


def _replay(service: Service) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "apps.microservices", "booking", "replay", "--dsn", service.dsn,
         "--nats", service.env["ARCHBENCH_NATS_URL"]],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)
