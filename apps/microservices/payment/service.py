"""The payment service's definition: its table, its provider client, what it consumes."""

from __future__ import annotations

from starlette.applications import Starlette

from apps.microservices.common.consumer import Subscription, Work
from apps.microservices.common.envelope import Envelope
from apps.microservices.common.runtime import Runtime, ServiceDefinition, create_app
from apps.microservices.payment import handlers, payments
from apps.payment_provider.client import PaymentClient

PROVIDER = "provider"
# Authorizations wait on the provider; handling many at once keeps its latency from
# serialising every booking behind the one before it.
AUTHORIZE_CONCURRENCY = 32
REFUND_CONCURRENCY = 8


async def on_start(runtime: Runtime) -> None:
    if not runtime.settings.payment_url:
        raise RuntimeError("payment: set ARCHBENCH_PAYMENT_URL to the payment provider's base URL")
    runtime.state[PROVIDER] = PaymentClient(
        runtime.settings.payment_url, max_connections=AUTHORIZE_CONCURRENCY + REFUND_CONCURRENCY,
    )


async def on_stop(runtime: Runtime) -> None:
    provider = runtime.state.pop(PROVIDER, None)
    if provider is not None:
        await provider.aclose()


def subscriptions(runtime: Runtime) -> list[Subscription]:
    def provider() -> PaymentClient:
        return runtime.state[PROVIDER]

    async def on_inventory_reserved(envelope: Envelope, work: Work) -> None:
        await handlers.authorize(provider(), envelope, work)

    async def on_booking_cancelled(envelope: Envelope, work: Work) -> None:
        await handlers.refund(provider(), envelope, work)

    return [
        Subscription("inventory", ["InventoryReserved"], on_inventory_reserved,
                     concurrency=AUTHORIZE_CONCURRENCY),
        Subscription("booking", ["BookingCancelled"], on_booking_cancelled,
                     concurrency=REFUND_CONCURRENCY),
    ]


DEFINITION = ServiceDefinition(
    name="payment",
    ddl=payments.DDL,
    produces=True,
    consumes_from=("inventory", "booking"),
    subscriptions=subscriptions,
    on_start=on_start,
    on_stop=on_stop,
)


def create() -> Starlette:
    return create_app(DEFINITION)
