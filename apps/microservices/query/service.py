"""The query service: CQRS read side. Consumes every stream into read models, serves the GETs."""

from __future__ import annotations

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from apps.booking.dataset import DatasetSpec, generate_catalog
from apps.contract.openapi import openapi_document
from apps.contract.validation import (
    parse_booking_id,
    parse_check_availability,
    parse_list_hotels,
    storable,
)
from apps.microservices.common.consumer import Subscription
from apps.microservices.common.envelope import Envelope
from apps.microservices.common.runtime import Runtime, ServiceDefinition, create_app, runtime_of
from apps.microservices.query import projections, views
from apps.microservices.query.replay import replay
from apps.platform import catalog, inventory
from apps.platform.http import JSON

__all__ = ["DEFINITION", "create", "replay"]


async def project(conn: asyncpg.Connection, envelopes: list[Envelope]) -> None:
    await projections.apply(conn, envelopes)
    await projections.record_lag(conn, envelopes)


def subscriptions(runtime: Runtime) -> list[Subscription]:
    # One consumer per stream, applying what has arrived in batches, in stream order: a booking's
    # events are applied in the order written, one commit per batch.
    return [Subscription(producer, list(types), apply_batch=project)
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
    booking_id = parse_booking_id(request.path_params["booking_id"])
    async with runtime_of(request).pool.acquire() as conn:
        found = await views.booking(conn, booking_id)
    return JSON(found.to_dict())


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
    ddl=projections.DDL,
    produces=False,
    consumes_from=tuple(projections.CONSUMED),
    needs_reference_data=True,
    routes=routes,
    subscriptions=subscriptions,
    on_init=seed,
)


def create() -> Starlette:
    return create_app(DEFINITION)
