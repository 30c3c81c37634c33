"""The notification service as a real process: one notification per booking outcome, however often
the outcome is delivered."""

from __future__ import annotations

import pytest

from apps.booking.lifecycle import RejectionReason
from apps.microservices.common.envelope import envelope_for
from harness.deploy.nats import NatsServer
from tests.integration.ms_support import (
    Deployment,
    EventBus,
    Service,
    cancelled,
    confirmed,
    manifest,
    new_booking_id,
    rejected,
)
from tests.support.polling import wait_until_async

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
def notification(deployment: Deployment) -> Service:
    return deployment.start_service("notification")


async def test_init_creates_the_tables_of_its_manifest(notification: Service) -> None:
    assert await notification.tables() == set(manifest("notification")["tables"])


async def test_every_outcome_is_notified_once_however_often_it_is_delivered(
        nats_server: NatsServer, notification: Service) -> None:
    kept, declined = new_booking_id(), new_booking_id()
    outcomes = [
        (kept, confirmed(kept)),
        (declined, rejected(declined, RejectionReason.PAYMENT_DECLINED)),
        (kept, cancelled(kept)),
    ]
    async with EventBus(nats_server.url) as events:
        for booking_id, outcome in outcomes:
            envelope = envelope_for(outcome, aggregate_id=booking_id)
            await events.publish("booking", envelope, msg_id=f"{envelope.event_id}-1")
            await events.publish("booking", envelope, msg_id=f"{envelope.event_id}-2")
            await events.emit("booking", outcome, booking_id)  # the same outcome, a new event id
        await wait_until_async(lambda: events.handled_all("notification", "booking", notification), 20,
                               "notification handled every delivery")
        sent = await events.events("notification")

    expected = {(kept, "BookingConfirmed"), (declined, "BookingRejected"),
                (kept, "BookingCancelled")}
    assert sorted((e.payload["booking_id"], e.payload["kind"]) for e in sent) == sorted(expected)
    assert all(e.type == "NotificationSent" and e.aggregate_id == e.payload["booking_id"]
               and e.payload["customer_id"] == f"c-{e.aggregate_id[:8]}" for e in sent)
    rows = await notification.fetch("SELECT booking_id, kind FROM notifications")
    assert {(r["booking_id"], r["kind"]) for r in rows} == expected
    assert len(rows) == len(expected)


async def test_a_notification_names_the_event_that_caused_it(
        nats_server: NatsServer, notification: Service) -> None:
    booking_id = new_booking_id()
    async with EventBus(nats_server.url) as events:
        cause = await events.emit("booking", rejected(booking_id, RejectionReason.SOLD_OUT),
                                  booking_id)

        async def sent_one() -> bool:
            return len(await events.events("notification")) == 1

        await wait_until_async(sent_one, 20, "one notification sent")
        [sent] = await events.events("notification")

    assert sent.causation_id == cause.event_id
    assert sent.correlation_id == cause.correlation_id
