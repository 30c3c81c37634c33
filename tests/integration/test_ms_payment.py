"""The payment service as a real process with a real payment provider: one charge per booking and
one refund per cancellation, whatever is delivered twice, whatever crashes mid-authorization."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from apps.microservices.common.bus import DEFAULT_ACK_WAIT_S
from apps.microservices.common.envelope import envelope_for
from harness.deploy.nats import NatsServer
from harness.deploy.supervisor import free_port
from tests.integration.ms_support import (
    Deployment,
    EventBus,
    Service,
    cancelled,
    manifest,
    new_booking_id,
    reserved,
)
from tests.support.polling import wait_until_async

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def start_payment(deployment: Deployment, latency: str = "none") -> Service:
    # Starting processes blocks (and creating a database runs its own event loop): off the loop.
    url = await asyncio.to_thread(deployment.start_provider, latency)
    return await asyncio.to_thread(deployment.start_service, "payment", url)


async def payment_events(events: EventBus, count: int) -> list[str]:
    async def enough() -> bool:
        return len(await events.events("payment")) >= count

    await wait_until_async(enough, 20, f"{count} payment events")
    return await events.types("payment")


async def test_init_creates_the_tables_of_its_manifest(deployment: Deployment) -> None:
    dsn = await asyncio.to_thread(deployment.init, "payment")
    service = Service("payment", dsn, 0, {})

    assert await service.tables() == set(manifest("payment")["tables"])


async def test_a_reservation_delivered_twice_charges_once(
        deployment: Deployment, nats_server: NatsServer) -> None:
    payment = await start_payment(deployment, latency="fixed:0.2")
    booking_id = new_booking_id()
    async with EventBus(nats_server.url) as events:
        envelope = envelope_for(reserved(booking_id), aggregate_id=booking_id)
        await events.publish("inventory", envelope, msg_id="first")
        await events.publish("inventory", envelope, msg_id="second")
        await events.emit("inventory", reserved(booking_id), booking_id)  # a new event id too
        await wait_until_async(lambda: events.handled_all("payment", "inventory", payment), 20,
                               "payment handled every delivery")
        emitted = await events.events("payment")

    ledger = deployment.ledger()
    assert [(a["booking_id"], a["status"]) for a in ledger["authorizations"]] == [
        (booking_id, "approved")]
    assert [e.type for e in emitted] == ["PaymentAuthorized"]
    assert emitted[0].payload == {"booking_id": booking_id, "amount_cents": 20_000,
                                  "authorization_id": ledger["authorizations"][0]["authorization_id"]}
    rows = await payment.fetch("SELECT booking_id, status FROM payments")
    assert [(r["booking_id"], r["status"]) for r in rows] == [(booking_id, "authorized")]


async def test_a_declined_card_emits_payment_declined(
        deployment: Deployment, nats_server: NatsServer) -> None:
    payment = await start_payment(deployment)
    booking_id = new_booking_id()
    async with EventBus(nats_server.url) as events:
        await events.emit("inventory", reserved(booking_id, card_token="tok_decline"), booking_id)
        emitted = await payment_events(events, 1)
        # Nothing was charged, so a cancellation (which cannot follow a decline) refunds nothing.
        await events.emit("booking", cancelled(booking_id), booking_id)
        await wait_until_async(lambda: events.handled_all("payment", "booking", payment), 20,
                               "payment handled the cancellation")

    assert emitted == ["PaymentDeclined"]
    ledger = deployment.ledger()
    assert [a["status"] for a in ledger["authorizations"]] == ["declined"]
    assert ledger["refunds"] == []
    rows = await payment.fetch("SELECT status, refund_id FROM payments")
    assert [(r["status"], r["refund_id"]) for r in rows] == [("declined", None)]


async def test_a_cancellation_delivered_twice_refunds_once(
        deployment: Deployment, nats_server: NatsServer) -> None:
    payment = await start_payment(deployment, latency="fixed:0.1")
    booking_id = new_booking_id()
    async with EventBus(nats_server.url) as events:
        await events.emit("inventory", reserved(booking_id), booking_id)
        await payment_events(events, 1)
        cancellation = envelope_for(cancelled(booking_id), aggregate_id=booking_id)
        await events.publish("booking", cancellation, msg_id="first")
        await events.publish("booking", cancellation, msg_id="second")
        await events.emit("booking", cancelled(booking_id), booking_id)
        await wait_until_async(lambda: events.handled_all("payment", "booking", payment), 20,
                               "payment handled every cancellation")
        emitted = await events.events("payment")

    ledger = deployment.ledger()
    authorization_id = ledger["authorizations"][0]["authorization_id"]
    assert [(r["idempotency_key"], r["authorization_id"], r["amount_cents"])
            for r in ledger["refunds"]] == [(f"refund:{booking_id}", authorization_id, 20_000)]
    assert [e.type for e in emitted] == ["PaymentAuthorized", "PaymentRefunded"]
    assert emitted[1].payload == {"booking_id": booking_id, "authorization_id": authorization_id,
                                  "amount_cents": 20_000}
    rows = await payment.fetch("SELECT refund_id FROM payments")
    assert [r["refund_id"] for r in rows] == [ledger["refunds"][0]["refund_id"]]


async def test_a_provider_that_is_down_delays_the_payment_without_losing_it(
        deployment: Deployment, nats_server: NatsServer) -> None:
    provider_port = free_port()
    payment = await asyncio.to_thread(deployment.start_service, "payment",
                                      f"http://127.0.0.1:{provider_port}")
    booking_id = new_booking_id()
    async with EventBus(nats_server.url) as events:
        await events.emit("inventory", reserved(booking_id), booking_id)

        async def held() -> bool:
            info = await events.consumer_info("payment", "inventory")
            return info is not None and info.num_ack_pending == 1

        await wait_until_async(held, 20, "the reservation delivered and held unacked")
        # the service retries the call itself and keeps the event marked in progress, so the
        # broker does not redeliver it however long the provider stays down (here: two ack
        # waits)
        await asyncio.sleep(2 * DEFAULT_ACK_WAIT_S)
        info = await events.consumer_info("payment", "inventory")
        assert info is not None and info.num_ack_pending == 1 and info.num_redelivered == 0
        assert await events.events("payment") == []
        assert await payment.fetch("SELECT 1 FROM payments") == []

        await asyncio.to_thread(deployment.start_provider, "none", provider_port)
        emitted = await payment_events(events, 1)

    assert emitted == ["PaymentAuthorized"]
    assert [a["booking_id"] for a in deployment.ledger()["authorizations"]] == [booking_id]


async def test_a_payment_service_killed_mid_authorization_charges_each_booking_once(
        deployment: Deployment, nats_server: NatsServer) -> None:
    payment = await start_payment(deployment, latency="fixed:1")
    provider_port = int(deployment.provider_url.rsplit(":", 1)[1])
    booking_ids = [new_booking_id() for _ in range(10)]
    async with EventBus(nats_server.url) as events:
        await asyncio.gather(*(events.emit("inventory", reserved(b), b) for b in booking_ids))

        async def all_at_the_provider() -> bool:
            info = await events.consumer_info("payment", "inventory")
            return (info is not None and info.ack_floor.stream_seq == 0
                    and deployment.connections_to("payment", provider_port) >= len(booking_ids))

        await wait_until_async(all_at_the_provider, 20, "every authorization in flight at the provider")
        await asyncio.to_thread(deployment.kill, "payment")
        assert await events.events("payment") == []
        await asyncio.to_thread(deployment.serve, payment)
        # Unacked messages come back once the consumer's ack wait (30 s) has passed.
        await wait_until_async(lambda: events.handled_all("payment", "inventory", payment), 60,
                               "payment handled every redelivery")
        # handled means committed; the relay publishes the emitted events just after
        await payment_events(events, len(booking_ids))
        emitted = await events.events("payment")

    assert Counter(e.type for e in emitted) == {"PaymentAuthorized": len(booking_ids)}
    assert sorted(e.aggregate_id for e in emitted) == sorted(booking_ids)
    ledger = deployment.ledger()
    assert Counter(a["booking_id"] for a in ledger["authorizations"]) == Counter(booking_ids)
    rows = await payment.fetch("SELECT booking_id, authorization_id FROM payments")
    assert {r["booking_id"]: r["authorization_id"] for r in rows} == {
        a["booking_id"]: a["authorization_id"] for a in ledger["authorizations"]}
