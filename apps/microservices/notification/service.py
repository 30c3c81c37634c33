"""The notification service's definition: its table and the booking outcomes it consumes."""

from __future__ import annotations

from starlette.applications import Starlette

from apps.microservices.common.consumer import Subscription
from apps.microservices.common.runtime import Runtime, ServiceDefinition, create_app
from apps.microservices.notification import handlers, notifications

# Notifications of different bookings are independent; one row per outcome keeps them single.
CONCURRENCY = 8


def subscriptions(runtime: Runtime) -> list[Subscription]:
    return [Subscription("booking", list(handlers.OUTCOMES), handlers.notify,
                         concurrency=CONCURRENCY)]


DEFINITION = ServiceDefinition(
    name="notification",
    ddl=notifications.DDL,
    produces=True,
    consumes_from=("booking",),
    subscriptions=subscriptions,
)


def create() -> Starlette:
    return create_app(DEFINITION)
