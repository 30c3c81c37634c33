"""The monolith against real PostgreSQL and a real payment provider: the invariants that matter
under concurrency and crashes, checked in the database and the provider's ledger."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.support.polling import wait_until, wait_until_async
from tests.support.stacks import MonolithStack, StartStack

pytestmark = pytest.mark.integration

ROOM = "h0001-r1"  # 3 units per night in the integration dataset


def booking(customer: str | None = None, **overrides: Any) -> dict[str, Any]:
    body = {"customer_id": customer or f"c-{uuid.uuid4().hex[:10]}", "room_type_id": ROOM,
            "check_in": "2027-01-10", "nights": 2, "card_token": "tok_ok"}
    return {**body, **overrides}


async def _post_many(url: str, bodies: list[dict[str, Any]],
                     headers: dict[str, str] | None = None) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=30,
                                 limits=httpx.Limits(max_connections=100)) as client:
        return await asyncio.gather(*(client.post("/bookings", json=b, headers=headers)
                                      for b in bodies))


def test_concurrent_bookings_for_the_last_rooms_never_overbook(monolith_stack: StartStack) -> None:
    stack = monolith_stack(latency="fixed:0.02", workers=2)
    responses = asyncio.run(_post_many(stack.url, [booking() for _ in range(30)]))

    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    outcomes = Counter((r.json()["status"], r.json()["reason"]) for r in responses)
    assert outcomes == {("confirmed", None): 3, ("rejected", "sold_out"): 27}
    assert stack.held() == {(ROOM, "2027-01-10"): 3, (ROOM, "2027-01-11"): 3}
    over = stack.fetch("SELECT count(*) AS n FROM inventory WHERE held > capacity")
    assert over[0]["n"] == 0


def test_a_declined_card_changes_no_inventory_and_charges_nothing(
        monolith_stack: StartStack) -> None:
    stack = monolith_stack()
    response = httpx.post(f"{stack.url}/bookings", json=booking(card_token="tok_decline"))

    assert response.status_code == 201
    assert (response.json()["status"], response.json()["reason"]) == ("rejected", "payment_declined")
    assert stack.held() == {}
    ledger = stack.ledger()
    assert [a["status"] for a in ledger["authorizations"]] == ["declined"]
    assert ledger["refunds"] == []


def test_a_retried_request_with_the_same_key_books_once(monolith_stack: StartStack) -> None:
    stack = monolith_stack(latency="fixed:0.05")
    body = booking()
    responses = asyncio.run(_post_many(stack.url, [body] * 10, headers={"Idempotency-Key": "k-1"}))

    assert {r.status_code for r in responses} <= {201, 202}
    assert len({r.json()["booking_id"] for r in responses}) == 1
    rows = stack.fetch("SELECT status FROM bookings WHERE customer_id = $1", body["customer_id"])
    assert [r["status"] for r in rows] == ["confirmed"]
    assert stack.held() == {(ROOM, "2027-01-10"): 1, (ROOM, "2027-01-11"): 1}
    assert len(stack.ledger()["authorizations"]) == 1

    conflict = httpx.post(f"{stack.url}/bookings", json={**body, "nights": 1},
                          headers={"Idempotency-Key": "k-1"})
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_conflict"
    assert len(stack.fetch("SELECT 1 FROM bookings")) == 1


def test_a_cancellation_releases_the_rooms_and_refunds_once(monolith_stack: StartStack) -> None:
    stack = monolith_stack()
    created = httpx.post(f"{stack.url}/bookings", json=booking()).json()
    cancelled = httpx.post(f"{stack.url}/bookings/{created['booking_id']}/cancel")
    again = httpx.post(f"{stack.url}/bookings/{created['booking_id']}/cancel")

    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_cancellable"
    assert stack.held() == {}
    ledger = stack.ledger()
    assert len(ledger["refunds"]) == 1
    assert ledger["refunds"][0]["authorization_id"] == ledger["authorizations"][0]["authorization_id"]


def _fire_and_kill(stack: MonolithStack, count: int) -> None:
    """Send `count` bookings, SIGKILL the monolith once some wait on the provider."""

    async def go() -> None:
        async with httpx.AsyncClient(base_url=stack.url, timeout=30) as client:
            rooms = [f"h000{1 + i % 2}-r{1 + (i // 2) % 2}" for i in range(count)]
            tasks = [asyncio.create_task(client.post("/bookings", json=booking(
                room_type_id=room, check_in=f"2027-01-{1 + i // 4:02d}", nights=1)))
                for i, room in enumerate(rooms)]
            await wait_until_async(lambda: asyncio.to_thread(
                stack.fetch, "SELECT 1 FROM bookings WHERE status = 'pending'"), 10,
                "bookings waiting on the provider", 0.02)
            stack.supervisor.get("monolith").popen.send_signal(signal.SIGKILL)
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(go())
    stack.supervisor.get("monolith").popen.wait(10)
    stack.supervisor.processes.remove(stack.supervisor.get("monolith"))


def test_a_monolith_killed_mid_payment_finishes_every_booking_on_restart_charging_once(
        monolith_stack: StartStack) -> None:
    stack = monolith_stack(latency="fixed:0.6", workers=1)
    _fire_and_kill(stack, count=16)

    pending = stack.fetch("SELECT booking_id FROM bookings WHERE status = 'pending'")
    assert pending, "the kill must land while bookings wait on the provider"

    stack.start_monolith()
    wait_until(lambda: not stack.fetch("SELECT 1 FROM bookings WHERE status = 'pending'"),
               30, "every pending booking reaches a terminal status", 0.1)

    rows = stack.fetch("SELECT booking_id, status, room_type_id, check_in::text, units "
                       "FROM bookings")
    confirmed = {r["booking_id"] for r in rows if r["status"] == "confirmed"}
    assert {r["booking_id"] for r in pending} <= confirmed
    charges = Counter(a["booking_id"] for a in stack.ledger()["authorizations"]
                      if a["status"] == "approved")
    assert set(charges) == confirmed
    assert max(charges.values()) == 1
    expected_held = Counter()
    for r in rows:
        if r["status"] == "confirmed":
            expected_held[(r["room_type_id"], r["check_in"])] += r["units"]
    assert stack.held() == dict(expected_held)
