"""A query against a deployment's PostgreSQL from a test's synchronous code."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg


def fetch(dsn: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    """One query on its own connection, from code outside an event loop."""

    async def go() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(dsn)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(go())
