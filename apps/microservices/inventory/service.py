"""The inventory service's definition: its tables, seed, and what it consumes from booking."""

from __future__ import annotations

from starlette.applications import Starlette

from apps.microservices.common.consumer import Subscription
from apps.microservices.common.runtime import Runtime, ServiceDefinition, create_app
from apps.microservices.inventory import schema
from apps.microservices.inventory.handlers import HANDLERS, dispatch

# Holds of different bookings are independent; row locks keep concurrent holds correct.
CONCURRENCY = 16


def subscriptions(runtime: Runtime) -> list[Subscription]:
    return [Subscription("booking", list(HANDLERS), dispatch(HANDLERS), concurrency=CONCURRENCY)]


DEFINITION = ServiceDefinition(
    name="inventory",
    ddl=schema.DDL,
    produces=True,
    consumes_from=("booking",),
    needs_reference_data=True,
    subscriptions=subscriptions,
    on_init=schema.seed_inventory,
)


def create() -> Starlette:
    return create_app(DEFINITION)
