"""Catalog context of the monolith: seeding the dataset, loading it, hotel and availability reads."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, timedelta

import asyncpg
import orjson

from apps.booking.catalog import Catalog, catalog_from_rows
from apps.booking.dataset import DatasetSpec, generate_catalog
from apps.booking.pricing import amount_cents
from apps.booking.validation import CheckAvailability, ListHotels


class DatasetMismatch(Exception):
    """The database already holds a different dataset."""


async def seed(conn: asyncpg.Connection, spec: DatasetSpec) -> bool:
    """Load the dataset once; True if it was loaded now, False if it was already there."""
    spec_json = json.dumps(asdict(spec), default=str, sort_keys=True)
    existing = await conn.fetchval("SELECT spec::text FROM dataset WHERE id = 1")
    if existing is not None:
        if json.loads(existing) != json.loads(spec_json):
            raise DatasetMismatch(f"database holds dataset {existing}, asked for {spec_json}")
        return False
    catalog = generate_catalog(spec)
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO dataset (id, spec, start_date, horizon_days) VALUES (1, $1::jsonb, $2, $3)",
            spec_json, spec.start_date, spec.horizon_days,
        )
        await conn.copy_records_to_table(
            "hotels", records=[(h.hotel_id, h.name, h.city) for h in catalog.hotels],
            columns=["hotel_id", "name", "city"],
        )
        room_types = catalog.room_types()
        await conn.copy_records_to_table(
            "room_types",
            records=[(r.room_type_id, r.hotel_id, r.name, r.units, r.nightly_rate_cents)
                     for r in room_types],
            columns=["room_type_id", "hotel_id", "name", "units", "nightly_rate_cents"],
        )
        nights = catalog.horizon.nights()
        await conn.copy_records_to_table(
            "inventory",
            records=((r.room_type_id, night, r.units, 0) for r in room_types for night in nights),
            columns=["room_type_id", "night", "capacity", "held"],
        )
    return True


async def load_catalog(conn: asyncpg.Connection) -> Catalog:
    """The reference data every request validates against, read once at start."""
    meta = await conn.fetchrow("SELECT start_date, horizon_days FROM dataset WHERE id = 1")
    if meta is None:
        raise RuntimeError("the database holds no dataset: run `python -m apps.monolith init`")
    rows = await conn.fetch(
        "SELECT h.hotel_id, h.name AS hotel_name, h.city, r.room_type_id, r.name, r.units, "
        "r.nightly_rate_cents FROM hotels h JOIN room_types r USING (hotel_id) "
        "ORDER BY h.hotel_id, r.room_type_id"
    )
    return catalog_from_rows(rows, meta["start_date"], meta["horizon_days"])


async def list_hotels(conn: asyncpg.Connection, query: ListHotels) -> list[dict]:
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


async def availability(conn: asyncpg.Connection, catalog: Catalog, query: CheckAvailability) -> dict:
    hotel = catalog.hotel(query.hotel_id)
    assert hotel is not None  # the query was parsed against the catalog
    room_type_ids = [r.room_type_id for r in hotel.room_types]
    # Per-night rows, minimum taken here: at most 14 nights x a few room types, and measured
    # cheaper for the server than GROUP BY (which sorts) on this hot read.
    rows = await conn.fetch(
        "SELECT room_type_id, capacity - held AS available FROM inventory "
        "WHERE room_type_id = ANY($1::text[]) AND night >= $2 AND night < $3",
        room_type_ids, query.check_in, _end(query.check_in, query.nights),
    )
    available: dict[str, int] = {}
    for room_type_id, units in rows:
        available[room_type_id] = min(units, available.get(room_type_id, units))
    return {
        "hotel_id": hotel.hotel_id,
        "check_in": query.check_in.isoformat(),
        "nights": query.nights,
        "room_types": [
            {
                "room_type_id": r.room_type_id,
                "available_units": available.get(r.room_type_id, 0),
                "nightly_rate_cents": r.nightly_rate_cents,
                "total_cents": amount_cents(r.nightly_rate_cents, query.nights, 1),
            }
            for r in hotel.room_types
        ],
    }


def _end(check_in: date, nights: int) -> date:
    return check_in + timedelta(days=nights)
