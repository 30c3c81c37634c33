"""The inventory service's tables: the shared holds (apps.platform.inventory) and its reservations."""

from __future__ import annotations

import asyncpg

from apps.booking.dataset import DatasetSpec
from apps.platform import inventory
from apps.platform.catalog import load_catalog

# The service's replica of the catalog is created before these (needs_reference_data).
DDL = inventory.DDL + """
CREATE TABLE IF NOT EXISTS reservations (
    booking_id text PRIMARY KEY,
    room_type_id text NOT NULL,
    check_in date NOT NULL,
    nights integer NOT NULL,
    units integer NOT NULL,
    status text NOT NULL CHECK (status IN ('held', 'rejected', 'released')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
"""


async def seed_inventory(conn: asyncpg.Connection, spec: DatasetSpec) -> None:
    """Every night of the horizon starts with all units of every room type free (once)."""
    await inventory.seed(conn, await load_catalog(conn))
