"""What every service process is made of: settings, pool, NATS, outbox relay, consumers, HTTP.

A service declares a `ServiceDefinition`; `create_app` turns it into a Starlette app whose
lifespan starts everything at start-up (never at import) and stops it at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from nats.aio.client import Client
from nats.js import JetStreamContext
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from apps.booking.catalog import Catalog
from apps.booking.dataset import DatasetSpec
from apps.microservices.common import bus, storage
from apps.microservices.common.bus import DEFAULT_ACK_WAIT_S
from apps.microservices.common.consumer import ConsumerLoop, Subscription
from apps.microservices.common.openapi import service_document
from apps.microservices.common.relay import OutboxRelay
from apps.platform import catalog as reference
from apps.platform import settings as environment
from apps.platform.http import EXCEPTION_HANDLERS, JSON
from apps.platform.process import die_with_parent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    dsn: str
    nats_url: str
    payment_url: str = ""
    pool_min: int = 2
    pool_max: int = 10
    # how long JetStream waits for an ack before redelivering (what a crash costs in delay)
    ack_wait_s: float = DEFAULT_ACK_WAIT_S

    @classmethod
    def from_env(cls) -> Settings:
        return environment.from_env(cls, "service")


@dataclass
class Runtime:
    """The live parts of one service process, handed to its handlers and routes."""

    name: str
    settings: Settings
    pool: asyncpg.Pool
    nc: Client
    js: JetStreamContext
    relay: OutboxRelay | None
    catalog: Catalog | None
    state: dict[str, Any] = field(default_factory=dict)
    consumers: list[ConsumerLoop] = field(default_factory=list)


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    ddl: str
    produces: bool
    consumes_from: tuple[str, ...] = ()
    needs_reference_data: bool = False
    routes: Callable[[], list[BaseRoute]] = list
    subscriptions: Callable[[Runtime], list[Subscription]] = lambda runtime: []
    on_start: Callable[[Runtime], Awaitable[None]] | None = None
    on_stop: Callable[[Runtime], Awaitable[None]] | None = None
    on_init: Callable[[asyncpg.Connection, DatasetSpec], Awaitable[None]] | None = None


async def initialise(definition: ServiceDefinition, dsn: str, spec: DatasetSpec) -> None:
    """Create the service's tables and load what it needs of the dataset (idempotent)."""
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute(storage.DDL)
            # the catalog first: a service's own tables may reference its room types
            if definition.needs_reference_data:
                await conn.execute(reference.DDL)
            await conn.execute(definition.ddl)
            if definition.needs_reference_data:
                await reference.seed(conn, spec)
            if definition.on_init is not None:
                await definition.on_init(conn, spec)
    finally:
        await conn.close()


async def _keep_session(conn: asyncpg.Connection) -> None:
    """No reset query on release: services never change session state (one round trip saved)."""


def _supervised(work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
    """A background loop whose death takes the process down: a service whose consumer or relay
    stopped must not keep answering /health as if it were working."""
    task = asyncio.create_task(work, name=name)

    def check(done: asyncio.Task[None]) -> None:
        if not done.cancelled() and done.exception() is not None:
            log.critical("%s died: %r; stopping the process", name, done.exception())
            os.kill(os.getpid(), signal.SIGTERM)

    task.add_done_callback(check)
    return task


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


def create_app(definition: ServiceDefinition) -> Starlette:
    settings = Settings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        die_with_parent()
        pool = await asyncpg.create_pool(settings.dsn, min_size=settings.pool_min,
                                         max_size=settings.pool_max, reset=_keep_session)
        nc, js = await bus.connect(settings.nats_url, definition.name)
        tasks: list[asyncio.Task[None]] = []
        try:
            for producer in {*definition.consumes_from, *([definition.name]
                                                          if definition.produces else [])}:
                await bus.ensure_stream(js, producer)
            catalog = None
            if definition.needs_reference_data:
                async with pool.acquire() as conn:
                    catalog = await reference.load_catalog(conn)
            relay = OutboxRelay(pool, js) if definition.produces else None
            runtime = Runtime(definition.name, settings, pool, nc, js, relay, catalog)
            app.state.runtime = runtime
            if definition.on_start is not None:
                await definition.on_start(runtime)
            if relay is not None:
                tasks.append(_supervised(relay.run(), "outbox-relay"))
            for subscription in definition.subscriptions(runtime):
                loop = ConsumerLoop(definition.name, subscription, pool, nc, js, relay,
                                    settings.ack_wait_s)
                runtime.consumers.append(loop)
                tasks.append(_supervised(loop.run(), loop.consumer))
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if definition.on_stop is not None and hasattr(app.state, "runtime"):
                await definition.on_stop(app.state.runtime)
            with contextlib.suppress(Exception):
                # close, not drain: consumers are already stopped, and anything unacked is
                # redelivered by JetStream; drain would wait out pending pull requests
                await nc.close()
            await pool.close()

    async def health(request: Request) -> JSON:
        return JSON({"status": "ok", "service": definition.name})

    routes = definition.routes()
    document = service_document(definition.name, _contract_operations(routes))

    async def openapi(request: Request) -> JSON:
        return JSON(document)

    # A service's own routes come first: the query service answers /health and /openapi.json
    # for the gateway, with the contract's.
    return Starlette(
        routes=[*routes, Route("/health", health, methods=["GET"]),
                Route("/openapi.json", openapi, methods=["GET"])],
        exception_handlers=EXCEPTION_HANDLERS, lifespan=lifespan,
    )


def _contract_operations(routes: list[BaseRoute]) -> list[tuple[str, str]]:
    """(METHOD, path) of each contract operation among `routes`; /health and /openapi.json are
    every service's own."""
    return [(method, route.path) for route in routes if isinstance(route, Route)
            and route.path not in ("/health", "/openapi.json")
            for method in sorted(route.methods or ()) if method != "HEAD"]
