"""The inventory service as a real process on real PostgreSQL and NATS JetStream: holds are
all-or-nothing, never above capacity, decided once per booking and released once."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from apps.booking.lifecycle import RejectionReason
from apps.microservices.common.envelope import envelope_for
from harness.deploy.nats import NatsServer
from tests.integration.ms_support import (
    ROOM,
    Deployment,
    EventBus,
    Service,
    cancelled,
    manifest,
    new_booking_id,
    rejected,
    requested,
)
from tests.support.polling import wait_until_async

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
def inventory(deployment: Deployment) -> Service:
    return deployment.start_service("inventory")


async def held(service: Service) -> dict[str, int]:
    rows = await service.fetch(
        "SELECT night::text, held FROM inventory WHERE room_type_id = $1 AND held <> 0 ORDER BY 1",
        ROOM,
    )
    return {r["night"]: r["held"] for r in rows}


async def settled(events: EventBus, count: int) -> list[str]:
    await wait_until_async(lambda: _has(events, count), 20, f"{count} inventory events")
    return await events.types("inventory")


async def _has(events: EventBus, count: int) -> bool:
    return len(await events.events("inventory")) >= count


async def test_init_seeds_one_row_per_room_type_and_night_and_the_tables_of_its_manifest(
        deployment: Deployment, inventory: Service) -> None:
    rows = await inventory.fetch("SELECT count(*) AS n, sum(capacity) AS c, sum(held) AS h "
                                 "FROM inventory")
    assert (rows[0]["n"], rows[0]["c"], rows[0]["h"]) == (4 * 30, 4 * 30 * 3, 0)

    deployment.run_init("inventory", inventory.dsn)  # a second init changes nothing

    again = await inventory.fetch("SELECT count(*) AS n FROM inventory")
    assert again[0]["n"] == 4 * 30
    assert await inventory.tables() == set(manifest("inventory")["tables"])


async def test_twenty_requests_for_the_last_three_units_reserve_exactly_three(
        nats_server: NatsServer, inventory: Service) -> None:
    async with EventBus(nats_server.url) as events:
        requests = [requested(new_booking_id()) for _ in range(20)]
        await asyncio.gather(*(events.emit("booking", r, r.booking_id) for r in requests))
        outcomes = await settled(events, 20)
        reserved = [e for e in await events.events("inventory") if e.type == "InventoryReserved"]

    assert Counter(outcomes) == {"InventoryReserved": 3, "InventoryRejected": 17}
    by_id = {r.booking_id: r for r in requests}
    for envelope in reserved:
        request = by_id[envelope.aggregate_id]
        assert envelope.payload["amount_cents"] == request.amount_cents
        assert envelope.payload["card_token"] == request.card_token
    assert await held(inventory) == {"2027-01-10": 3, "2027-01-11": 3}
    statuses = await inventory.fetch("SELECT status, count(*) AS n FROM reservations GROUP BY 1")
    assert {r["status"]: r["n"] for r in statuses} == {"held": 3, "rejected": 17}


async def test_a_stay_short_on_one_night_holds_none_of_its_nights(
        nats_server: NatsServer, inventory: Service) -> None:
    async with EventBus(nats_server.url) as events:
        first = requested(new_booking_id(), units=3, nights=1)  # fills 2027-01-10 only
        await events.emit("booking", first, first.booking_id)
        await settled(events, 1)
        longer = requested(new_booking_id(), units=1, nights=3)
        await events.emit("booking", longer, longer.booking_id)
        outcomes = await settled(events, 2)

    assert outcomes == ["InventoryReserved", "InventoryRejected"]
    assert await held(inventory) == {"2027-01-10": 3}


async def test_a_request_delivered_twice_holds_once(
        nats_server: NatsServer, inventory: Service) -> None:
    async with EventBus(nats_server.url) as events:
        request = requested(new_booking_id(), units=2)
        envelope = envelope_for(request, aggregate_id=request.booking_id)
        await events.publish("booking", envelope, msg_id="first")
        await events.publish("booking", envelope, msg_id="second")
        # The same booking requested again under another event id is decided once too.
        await events.emit("booking", request, request.booking_id)
        await wait_until_async(lambda: events.handled_all("inventory", "booking", inventory), 20,
                               "inventory handled all three deliveries")
        outcomes = await events.types("inventory")

    assert outcomes == ["InventoryReserved"]
    assert await held(inventory) == {"2027-01-10": 2, "2027-01-11": 2}


async def test_a_declined_payment_releases_the_rooms_once(
        nats_server: NatsServer, inventory: Service) -> None:
    async with EventBus(nats_server.url) as events:
        request = requested(new_booking_id(), units=2)
        await events.emit("booking", request, request.booking_id)
        await settled(events, 1)
        rejection = envelope_for(rejected(request.booking_id, RejectionReason.PAYMENT_DECLINED,
                                          units=2), aggregate_id=request.booking_id)
        await events.publish("booking", rejection, msg_id="first")
        await events.publish("booking", rejection, msg_id="second")
        await events.emit("booking", cancelled(request.booking_id, units=2), request.booking_id)
        await wait_until_async(lambda: events.handled_all("inventory", "booking", inventory), 20,
                               "inventory handled every delivery")
        outcomes = await events.types("inventory")

    assert outcomes == ["InventoryReserved", "InventoryReleased"]
    assert await held(inventory) == {}
    rows = await inventory.fetch("SELECT status FROM reservations")
    assert [r["status"] for r in rows] == ["released"]


async def test_a_cancellation_releases_the_rooms_for_the_next_guest(
        nats_server: NatsServer, inventory: Service) -> None:
    async with EventBus(nats_server.url) as events:
        first = requested(new_booking_id(), units=3)
        await events.emit("booking", first, first.booking_id)
        await settled(events, 1)
        await events.emit("booking", cancelled(first.booking_id, units=3), first.booking_id)
        await settled(events, 2)
        second = requested(new_booking_id(), units=3)
        await events.emit("booking", second, second.booking_id)
        outcomes = await settled(events, 3)
        released = (await events.events("inventory"))[1]

    assert outcomes == ["InventoryReserved", "InventoryReleased", "InventoryReserved"]
    assert released.aggregate_id == first.booking_id
    assert released.payload == {"booking_id": first.booking_id, "room_type_id": ROOM,
                                "check_in": "2027-01-10", "nights": 2, "units": 3}
    assert await held(inventory) == {"2027-01-10": 3, "2027-01-11": 3}


async def test_a_sold_out_rejection_releases_nothing(
        nats_server: NatsServer, inventory: Service) -> None:
    async with EventBus(nats_server.url) as events:
        holder = requested(new_booking_id(), units=3)
        refused = requested(new_booking_id(), units=1)
        await events.emit("booking", holder, holder.booking_id)
        await settled(events, 1)
        await events.emit("booking", refused, refused.booking_id)
        await settled(events, 2)
        await events.emit("booking", rejected(refused.booking_id, RejectionReason.SOLD_OUT),
                          refused.booking_id)
        await wait_until_async(lambda: events.handled_all("inventory", "booking", inventory), 20,
                               "inventory handled the sold-out rejection")
        outcomes = await events.types("inventory")

    assert outcomes == ["InventoryReserved", "InventoryRejected"]
    assert await held(inventory) == {"2027-01-10": 3, "2027-01-11": 3}
