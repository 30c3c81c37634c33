"""The inventory service's tables, and the one inventory row per room type and night it starts with."""

from __future__ import annotations

import asyncpg

from apps.booking.dataset import DatasetSpec
from apps.microservices.common import reference

# The reference tables come first so the holds can point at the room types they count.
DDL = reference.DDL + """
CREATE TABLE IF NOT EXISTS inventory (
    room_type_id text NOT NULL REFERENCES ref_room_types,
    night date NOT NULL,
    capacity integer NOT NULL,
    held integer NOT NULL DEFAULT 0 CHECK (held >= 0 AND held <= capacity),
    PRIMARY KEY (room_type_id, night)
);
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
    if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM inventory)"):
        return
    catalog = await reference.load(conn)
    nights = catalog.horizon.nights()
    await conn.copy_records_to_table(
        "inventory",
        records=[(rt.room_type_id, night, rt.units, 0)
                 for rt in catalog.room_types() for night in nights],
        columns=["room_type_id", "night", "capacity", "held"],
    )
