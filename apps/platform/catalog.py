"""The catalog's tables, seeding and reads, the same SQL in every database that holds the catalog:
the monolith's one database, and each service's replica of it."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import asyncpg
import orjson

from apps.booking.catalog import Catalog, catalog_from_rows
from apps.booking.dataset import DatasetSpec, generate_catalog
from apps.contract.validation import ListHotels

DDL = """
CREATE TABLE IF NOT EXISTS dataset (
    id integer PRIMARY KEY CHECK (id = 1),
    spec jsonb NOT NULL,
    start_date date NOT NULL,
    horizon_days integer NOT NULL
);
CREATE TABLE IF NOT EXISTS hotels (
    hotel_id text PRIMARY KEY,
    name text NOT NULL,
    city text NOT NULL
);
CREATE INDEX IF NOT EXISTS hotels_city ON hotels (lower(city), hotel_id);
CREATE TABLE IF NOT EXISTS room_types (
    room_type_id text PRIMARY KEY,
    hotel_id text NOT NULL REFERENCES hotels,
    name text NOT NULL,
    units integer NOT NULL CHECK (units > 0),
    nightly_rate_cents integer NOT NULL CHECK (nightly_rate_cents > 0)
);
CREATE INDEX IF NOT EXISTS room_types_hotel ON room_types (hotel_id, room_type_id);
"""


class DatasetMismatch(Exception):
    """The database already holds a different dataset."""


async def seed(conn: asyncpg.Connection, spec: DatasetSpec) -> Catalog | None:
    """Load the catalog once (in the caller's transaction); the catalog if it was loaded now,
    None if this dataset was there already. A different dataset is refused."""
    spec_json = json.dumps(asdict(spec), default=str, sort_keys=True)
    existing = await conn.fetchval("SELECT spec::text FROM dataset WHERE id = 1")
    if existing is not None:
        if json.loads(existing) != json.loads(spec_json):
            raise DatasetMismatch(f"database holds dataset {existing}, asked for {spec_json}")
        return None
    catalog = generate_catalog(spec)
    await conn.execute(
        "INSERT INTO dataset (id, spec, start_date, horizon_days) VALUES (1, $1::jsonb, $2, $3)",
        spec_json, spec.start_date, spec.horizon_days,
    )
    await conn.copy_records_to_table(
        "hotels", records=[(h.hotel_id, h.name, h.city) for h in catalog.hotels],
        columns=["hotel_id", "name", "city"],
    )
    await conn.copy_records_to_table(
        "room_types",
        records=[(r.room_type_id, r.hotel_id, r.name, r.units, r.nightly_rate_cents)
                 for r in catalog.room_types()],
        columns=["room_type_id", "hotel_id", "name", "units", "nightly_rate_cents"],
    )
    return catalog


async def load_catalog(conn: asyncpg.Connection) -> Catalog:
    """The reference data every request validates against, read once at start."""
    meta = await conn.fetchrow("SELECT start_date, horizon_days FROM dataset WHERE id = 1")
    if meta is None:
        raise RuntimeError("the database holds no dataset: run the app's `init` first")
    rows = await conn.fetch(
        "SELECT h.hotel_id, h.name AS hotel_name, h.city, r.room_type_id, r.name, r.units, "
        "r.nightly_rate_cents FROM hotels h JOIN room_types r USING (hotel_id) "
        "ORDER BY h.hotel_id, r.room_type_id"
    )
    return catalog_from_rows(rows, meta["start_date"], meta["horizon_days"])


async def list_hotels(conn: asyncpg.Connection, query: ListHotels) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """
        SELECT h.hotel_id, h.name, h.city,
               json_agg(json_build_object(
                   'room_type_id', r.room_type_id, 'name', r.name, 'units', r.units,
                   'nightly_rate_cents', r.nightly_rate_cents) ORDER BY r.room_type_id)::text
                   AS room_types
        FROM hotels h JOIN room_types r USING (hotel_id)
        WHERE $1::text IS NULL OR lower(h.city) = lower($1)
        GROUP BY h.hotel_id ORDER BY h.hotel_id LIMIT $2 OFFSET $3
        """,
        query.city, query.limit, query.offset,
    )
    return [
        {"hotel_id": r["hotel_id"], "name": r["name"], "city": r["city"],
         "room_types": orjson.loads(r["room_types"])}
        for r in rows
    ]
