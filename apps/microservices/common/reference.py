"""Reference data (hotels, room types, rates, horizon) replicated into each service that needs it.

Each service loads its own copy from the same deterministic dataset, into its own database: no
service reads another's tables.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import asyncpg

from apps.booking.catalog import Catalog, catalog_from_rows
from apps.booking.dataset import DatasetSpec, generate_catalog

DDL = """
CREATE TABLE IF NOT EXISTS ref_dataset (
    id integer PRIMARY KEY CHECK (id = 1),
    spec jsonb NOT NULL,
    start_date date NOT NULL,
    horizon_days integer NOT NULL
);
CREATE TABLE IF NOT EXISTS ref_hotels (
    hotel_id text PRIMARY KEY,
    name text NOT NULL,
    city text NOT NULL
);
CREATE TABLE IF NOT EXISTS ref_room_types (
    room_type_id text PRIMARY KEY,
    hotel_id text NOT NULL REFERENCES ref_hotels,
    name text NOT NULL,
    units integer NOT NULL,
    nightly_rate_cents integer NOT NULL
);
"""


class DatasetMismatch(Exception):
    """The database already holds a different dataset."""


async def seed(conn: asyncpg.Connection, spec: DatasetSpec) -> Catalog | None:
    """Load the reference data once; returns the catalog if loaded now, None if already there."""
    await conn.execute(DDL)
    spec_json = json.dumps(asdict(spec), default=str, sort_keys=True)
    existing = await conn.fetchval("SELECT spec::text FROM ref_dataset WHERE id = 1")
    if existing is not None:
        if json.loads(existing) != json.loads(spec_json):
            raise DatasetMismatch(f"database holds dataset {existing}, asked for {spec_json}")
        return None
    catalog = generate_catalog(spec)
    await conn.execute(
        "INSERT INTO ref_dataset (id, spec, start_date, horizon_days) VALUES (1, $1::jsonb, $2, $3)",
        spec_json, spec.start_date, spec.horizon_days,
    )
    await conn.copy_records_to_table(
        "ref_hotels", records=[(h.hotel_id, h.name, h.city) for h in catalog.hotels],
        columns=["hotel_id", "name", "city"],
    )
    await conn.copy_records_to_table(
        "ref_room_types",
        records=[(r.room_type_id, r.hotel_id, r.name, r.units, r.nightly_rate_cents)
                 for r in catalog.room_types()],
        columns=["room_type_id", "hotel_id", "name", "units", "nightly_rate_cents"],
    )
    return catalog


async def load(conn: asyncpg.Connection) -> Catalog:
    meta = await conn.fetchrow("SELECT start_date, horizon_days FROM ref_dataset WHERE id = 1")
    if meta is None:
        raise RuntimeError("no reference data: run the service's `init` first")
    rows = await conn.fetch(
        "SELECT h.hotel_id, h.name AS hotel_name, h.city, r.room_type_id, r.name, r.units, "
        "r.nightly_rate_cents FROM ref_hotels h JOIN ref_room_types r USING (hotel_id) "
        "ORDER BY h.hotel_id, r.room_type_id"
    )
    return catalog_from_rows(rows, meta["start_date"], meta["horizon_days"])
