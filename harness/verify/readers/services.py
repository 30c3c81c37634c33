"""The checker's reader for services on one database each, their events through JetStream
(the event-driven microservices' tables: the booking event store, holds, payments, read models)."""

from __future__ import annotations

from typing import Any

import nats

from harness.deploy.nats import jsz_streams
from harness.verify.invariants import Payment, ReadSide, Reservation, Snapshot
from harness.verify.readers.common import BOOKING_COLUMNS, Databases, Http, State, booking, inventory

TABLES = {"booking": ("booking_events", "outbox"),
          "inventory": ("inventory", "reservations", "outbox"),
          "payment": ("payments", "outbox"), "notification": ("outbox",),
          "query": ("booking_view", "availability_view", "payment_view", "outbox")}
WAITED_FOR = ["no pending booking", "every outbox relayed",
              "every JetStream consumer caught up and acked"]

# A booking's status in the event store is decided by its last event.
_MICROSERVICE_BOOKINGS = """
WITH last AS (
    SELECT DISTINCT ON (aggregate_id) aggregate_id, type, payload
    FROM booking_events ORDER BY aggregate_id, sequence DESC
)
SELECT last.aggregate_id AS booking_id,
       r.payload->>'customer_id' AS customer_id, r.payload->>'hotel_id' AS hotel_id,
       r.payload->>'room_type_id' AS room_type_id, (r.payload->>'check_in')::date AS check_in,
       (r.payload->>'nights')::int AS nights, (r.payload->>'units')::int AS units,
       (r.payload->>'amount_cents')::bigint AS amount_cents,
       CASE last.type WHEN 'BookingRequested' THEN 'pending' WHEN 'BookingConfirmed' THEN 'confirmed'
                      WHEN 'BookingRejected' THEN 'rejected' WHEN 'BookingCancelled' THEN 'cancelled'
                      ELSE 'after ' || last.type END AS status,
       CASE WHEN last.type = 'BookingRejected' THEN last.payload->>'reason' END AS reason,
       c.payload->>'authorization_id' AS confirmed_with
FROM last
LEFT JOIN booking_events r ON r.aggregate_id = last.aggregate_id AND r.type = 'BookingRequested'
LEFT JOIN booking_events c ON c.aggregate_id = last.aggregate_id AND c.type = 'BookingConfirmed'
"""
_PENDING_MICROSERVICE_BOOKINGS = """
SELECT count(*) FROM (SELECT DISTINCT ON (aggregate_id) type FROM booking_events
                      ORDER BY aggregate_id, sequence DESC) last
WHERE type = 'BookingRequested'
"""


async def probe(dbs: Databases, state: State, http: Http) -> tuple[dict[str, Any], object]:
    outbox = {name: await conn.fetchval("SELECT count(*) FROM outbox")
              for name, conn in dbs.items()}
    pending = await dbs["booking"].fetchval(_PENDING_MICROSERVICE_BOOKINGS)
    events = await dbs["booking"].fetchval("SELECT count(*) FROM booking_events")
    streams, consumers = await _jetstream(state, http)
    behind = sorted(f"{c['name']} ({c['num_pending']} unread, {c['num_ack_pending']} unacked)"
                    for c in consumers if c["num_pending"] or c["num_ack_pending"])
    in_flight = {"pending_bookings": pending,
                 "outbox_rows": {k: v for k, v in outbox.items() if v},
                 "consumers_behind": behind}
    signature = (pending, events, sorted(outbox.items()), sorted(streams.items()),
                 sorted((c["name"], c["delivered"], c["ack_floor"]) for c in consumers))
    return in_flight, signature


async def _jetstream(state: dict[str, Any], http: Http
                     ) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """This deployment's streams (last sequence) and durable consumers, from the monitoring
    endpoint, or from the JetStream API when the server was given by URL without one."""
    ours = {name.upper() for name in state["databases"]}
    monitor = state["endpoints"].get("nats_monitor")
    if monitor is None:
        return await _jetstream_api(state["endpoints"]["nats"], ours)
    response = await http.get(f"{monitor}/jsz", params={"accounts": "true", "consumers": "true",
                                                          "config": "true"})
    response.raise_for_status()
    streams: dict[str, int] = {}
    consumers: list[dict[str, Any]] = []
    for stream in jsz_streams(response.json()):
        if stream["name"] not in ours:
            continue
        streams[stream["name"]] = stream["state"]["last_seq"]
        for c in stream.get("consumer_detail", []):
            if "config" in c and not c["config"].get("durable_name"):
                continue  # an ephemeral reader, e.g. a replay: not part of the workflow
            consumers.append({"name": c["name"], "num_pending": c["num_pending"],
                              "num_ack_pending": c["num_ack_pending"],
                              "delivered": c["delivered"]["stream_seq"],
                              "ack_floor": c["ack_floor"]["stream_seq"]})
    return streams, consumers


async def _jetstream_api(url: str, ours: set[str]) -> tuple[dict[str, int], list[dict[str, Any]]]:
    nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=1)
    try:
        js = nc.jetstream()
        streams: dict[str, int] = {}
        consumers: list[dict[str, Any]] = []
        for info in await js.streams_info():
            if info.config.name not in ours:
                continue
            streams[info.config.name] = info.state.last_seq
            for c in await js.consumers_info(info.config.name):
                if not c.config.durable_name:
                    continue
                consumers.append({"name": c.name, "num_pending": c.num_pending or 0,
                                  "num_ack_pending": c.num_ack_pending or 0,
                                  "delivered": c.delivered.stream_seq if c.delivered else 0,
                                  "ack_floor": c.ack_floor.stream_seq if c.ack_floor else 0})
        return streams, consumers
    finally:
        await nc.close()


async def read(dbs: Databases, architecture: str) -> Snapshot:
    rows = await dbs["booking"].fetch(_MICROSERVICE_BOOKINGS)
    bookings = {r["booking_id"]: booking(r) for r in rows}
    confirmed_with = {r["booking_id"]: r["confirmed_with"] for r in rows if r["confirmed_with"]}
    reservations = {
        r["booking_id"]: Reservation(r["booking_id"], r["room_type_id"], r["check_in"],
                                     r["nights"], r["units"], r["status"])
        for r in await dbs["inventory"].fetch(
            "SELECT booking_id, room_type_id, check_in, nights, units, status FROM reservations")
    }
    payments = {
        r["booking_id"]: Payment(r["booking_id"], r["status"], r["amount_cents"],
                                 r["authorization_id"], r["refund_id"])
        for r in await dbs["payment"].fetch(
            "SELECT booking_id, status, amount_cents, authorization_id, refund_id FROM payments")
    }
    query = dbs["query"]
    view = ReadSide(
        bookings={r["booking_id"]: booking(r)
                  for r in await query.fetch(f"SELECT {BOOKING_COLUMNS} FROM booking_view")},
        availability=await inventory(query, "availability_view"),
        payments={r["booking_id"]: dict(r) for r in await query.fetch(
            "SELECT booking_id, authorization_id, amount_cents, status FROM payment_view")},
    )
    return Snapshot(architecture, bookings, await inventory(dbs["inventory"], "inventory"),
                    payments, reservations, confirmed_with, view)
