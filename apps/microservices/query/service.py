"""The query service: CQRS read side. Consumes every stream into read models, serves the GETs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from apps.booking.dataset import DatasetSpec, generate_catalog
from apps.booking.lifecycle import BookingStatus
from apps.contract.errors import NotFound
from apps.contract.openapi import openapi_document
from apps.contract.validation import (
    parse_booking_id,
    parse_check_availability,
    parse_list_hotels,
    parse_prefer_wait,
    storable,
)
from apps.microservices.common.consumer import Subscription
from apps.microservices.common.envelope import Envelope
from apps.microservices.common.runtime import Runtime, ServiceDefinition, create_app, runtime_of
from apps.microservices.query import projections, views
from apps.microservices.query.replay import replay
from apps.platform import catalog, inventory
from apps.platform.bookings import booking_by_id
from apps.platform.http import JSON, error

__all__ = ["DEFINITION", "create", "replay"]


class Watchers:
    """Readers waiting for a booking to change, woken when a committed batch touched it.

    A reader registers before it reads, so a change committed between its read and its wait
    still wakes it."""

    def __init__(self) -> None:
        self.waiting: dict[str, set[asyncio.Event]] = {}

    @contextlib.contextmanager
    def watch(self, booking_id: str) -> Iterator[asyncio.Event]:
        changed = asyncio.Event()
        self.waiting.setdefault(booking_id, set()).add(changed)
        try:
            yield changed
        finally:
            watchers = self.waiting[booking_id]
            watchers.discard(changed)
            if not watchers:
                del self.waiting[booking_id]

    def applied(self, envelopes: list[Envelope]) -> None:
        for envelope in envelopes:
            for changed in self.waiting.get(envelope.aggregate_id, ()):
                changed.set()


def _watchers(runtime: Runtime) -> Watchers:
    return runtime.state.setdefault("watchers", Watchers())


def subscriptions(runtime: Runtime) -> list[Subscription]:
    # One consumer per stream, applying what has arrived in batches, in stream order: a booking's
    # events are applied in the order written, one commit per batch.
    watchers = _watchers(runtime)
    return [Subscription(producer, list(types), apply_batch=projections.apply,
                         applied=watchers.applied if producer == "booking" else None)
            for producer, types in projections.CONSUMED.items()]


async def seed(conn: asyncpg.Connection, spec: DatasetSpec) -> None:
    await projections.seed_availability(conn, generate_catalog(spec))


async def health(request: Request) -> JSON:
    return JSON({"status": "ok", "architecture": "microservices"})


async def openapi(request: Request) -> JSON:
    return JSON(openapi_document("microservices"))


async def list_hotels(request: Request) -> JSON:
    query = parse_list_hotels(request.query_params)
    async with runtime_of(request).pool.acquire() as conn:
        return JSON({"hotels": await catalog.list_hotels(conn, query)})


async def availability(request: Request) -> JSON:
    runtime = runtime_of(request)
    assert runtime.catalog is not None  # needs_reference_data
    query = parse_check_availability(request.query_params, runtime.catalog)
    async with runtime.pool.acquire() as conn:
        return JSON(await inventory.availability(conn, runtime.catalog, query,
                                                 table="availability_view"))


async def get_booking(request: Request) -> JSON:
    """The booking as the read side knows it. With `Prefer: wait=N` (RFC 7240), a booking not
    yet visible or still pending is answered when the read side next changes it, or after N
    seconds, whichever is first: the client learns the outcome as soon as it is known, with one
    request instead of a poll every few milliseconds."""
    booking_id = parse_booking_id(request.path_params["booking_id"])
    runtime = runtime_of(request)
    wait_s = parse_prefer_wait(request.headers.get("prefer"))
    if wait_s is None:
        async with runtime.pool.acquire() as conn:
            return JSON((await views.booking(conn, booking_id)).to_dict())
    deadline = asyncio.get_running_loop().time() + wait_s
    applied = {"Preference-Applied": f"wait={wait_s:g}"}
    with _watchers(runtime).watch(booking_id) as changed:
        while True:
            changed.clear()
            async with runtime.pool.acquire() as conn:
                found = await booking_by_id(conn, booking_id, "booking_view")
            remaining = deadline - asyncio.get_running_loop().time()
            if (found is not None and found.status is not BookingStatus.PENDING) or remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)
    if found is None:
        response = error(404, NotFound.code, f"booking {booking_id} not found")
        response.headers.update(applied)
        return response
    return JSON(found.to_dict(), headers=applied)


async def customer_bookings(request: Request) -> JSON:
    customer_id = request.path_params["customer_id"]
    if not storable(customer_id):
        return JSON({"bookings": []})
    async with runtime_of(request).pool.acquire() as conn:
        found = await views.customer_bookings(conn, customer_id)
    return JSON({"bookings": [b.to_dict() for b in found]})


def routes() -> list[BaseRoute]:
    return [
        Route("/health", health, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/hotels", list_hotels, methods=["GET"]),
        Route("/availability", availability, methods=["GET"]),
        Route("/bookings/{booking_id}", get_booking, methods=["GET"]),
        Route("/customers/{customer_id}/bookings", customer_bookings, methods=["GET"]),
    ]


DEFINITION = ServiceDefinition(
    name="query",
    ddl=projections.DDL + projections.READ_LAG_DDL,
    produces=False,
    consumes_from=tuple(projections.CONSUMED),
    needs_reference_data=True,
    routes=routes,
    subscriptions=subscriptions,
    on_init=seed,
)


def create() -> Starlette:
    return create_app(DEFINITION)
