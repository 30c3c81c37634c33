"""Builds the monolith: pool, catalog, payment client, service and routes, at start, never at import."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg
from starlette.applications import Starlette

from apps.monolith.config import Settings
from apps.monolith.http import ROUTES
from apps.monolith.service import BookingService
from apps.payment_provider.client import PaymentClient
from apps.platform.catalog import load_catalog
from apps.platform.http import EXCEPTION_HANDLERS
from apps.platform.process import die_with_parent


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Skip asyncpg's reset query on release: the app never changes session state (its only
    advisory lock is released explicitly), and the reset would cost a round trip per request."""


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        die_with_parent()
        pool = await asyncpg.create_pool(settings.dsn, min_size=settings.pool_min,
                                         max_size=settings.pool_max, reset=_keep_session)
        try:
            async with pool.acquire() as conn:
                catalog = await load_catalog(conn)
            async with PaymentClient(settings.payment_url,
                                     timeout=settings.payment_timeout_s) as provider:
                service = BookingService(pool, catalog, provider)
                app.state.service = service
                recovery = asyncio.create_task(
                    service.run_recovery(settings.recovery_interval_s, settings.recovery_grace_s)
                )
                try:
                    yield
                finally:
                    recovery.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await recovery
        finally:
            await pool.close()

    return Starlette(routes=ROUTES, exception_handlers=EXCEPTION_HANDLERS, lifespan=lifespan)
