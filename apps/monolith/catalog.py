"""Catalog context of the monolith: the dataset loaded once, with the inventory it starts with."""

from __future__ import annotations

import asyncpg

from apps.booking.dataset import DatasetSpec
from apps.platform import catalog, inventory


async def seed(conn: asyncpg.Connection, spec: DatasetSpec) -> bool:
    """Load the dataset once; True if it was loaded now, False if it was already there."""
    async with conn.transaction():
        loaded = await catalog.seed(conn, spec)
        if loaded is not None:
            await inventory.seed(conn, loaded)
    return loaded is not None
