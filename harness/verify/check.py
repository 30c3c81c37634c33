"""`archbench check`: wait until a live deployment is quiet, then check the five invariants of
DESIGN.md from its databases (SQL), the payment provider's ledger and JetStream's monitoring.

The harness never imports the apps: the tables are read by name, as the apps' DDL declares them.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats
import orjson

from harness.config.errors import HarnessError
from harness.deploy.nats import jsz_streams
from harness.verify.invariants import (
    Booking,
    Ledger,
    Payment,
    ReadSide,
    Reservation,
    Result,
    Snapshot,
    check_all,
    status_counts,
)
from harness.verify.replay import replay_deployment

MAX_LISTED = 50  # violations kept per invariant in the report; the rest are counted
POLL_S = 0.25
LEDGER = Path("payment_provider") / "ledger.jsonl"
# what the money invariant reads of each ledger line; a line without it is unreadable
LEDGER_FIELDS = {"authorization": ("authorization_id", "booking_id", "amount_cents", "status"),
                 "refund": ("refund_id", "authorization_id", "amount_cents")}

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
_BOOKING_COLUMNS = ("booking_id, customer_id, hotel_id, room_type_id, check_in, nights, units, "
                    "amount_cents, status, reason")


# ---- quiescence ------------------------------------------------------------------------------


def wait_quiescent(state: dict[str, Any], timeout_s: float = 60.0) -> dict[str, Any]:
    """Poll until nothing is in flight and nothing moved between two consecutive polls.

    Monolith: no pending booking, no refund owed. Microservices: no pending booking, every outbox
    relayed (the relay deletes what it published), every durable JetStream consumer caught up and
    acked. On timeout it returns `quiescent: False` with what was still in flight; it never raises
    for that, since a booking stuck pending is what the check must report.
    """
    return asyncio.run(_wait_quiescent(state, timeout_s))


async def _wait_quiescent(state: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    microservices = state["architecture"] == "microservices"
    waited_for = (["no pending booking", "every outbox relayed",
                   "every JetStream consumer caught up and acked"] if microservices
                  else ["no pending booking", "no refund owed"])
    waited_for.append("nothing changed between two polls")
    probe = _probe_microservices if microservices else _probe_monolith
    started = time.monotonic()
    previous: object = None
    polls = 0
    async with _Databases(state["databases"]) as dbs, httpx.AsyncClient(timeout=5) as http:
        while True:
            polls += 1
            in_flight, signature = await probe(dbs, state, http)
            busy = {k: v for k, v in in_flight.items() if v}
            waited = time.monotonic() - started
            if not busy and signature == previous:
                return {"quiescent": True, "waited_s": round(waited, 3), "polls": polls,
                        "timeout_s": timeout_s, "waited_for": waited_for, "in_flight": {}}
            if waited >= timeout_s:
                return {"quiescent": False, "waited_s": round(waited, 3), "polls": polls,
                        "timeout_s": timeout_s, "waited_for": waited_for, "in_flight": busy}
            previous = None if busy else signature
            await asyncio.sleep(POLL_S)


async def _probe_monolith(dbs: _Databases, state: dict[str, Any],
                          http: httpx.AsyncClient) -> tuple[dict[str, Any], object]:
    row = await dbs["monolith"].fetchrow(
        "SELECT (SELECT count(*) FROM bookings WHERE status = 'pending') AS pending_bookings, "
        "(SELECT count(*) FROM payments WHERE refund_status = 'pending') AS refunds_owed, "
        "(SELECT count(*) FROM bookings) AS bookings, (SELECT max(updated_at) FROM bookings) AS b, "
        "(SELECT max(updated_at) FROM payments) AS p, (SELECT count(*) FROM notifications) AS n"
    )
    return ({"pending_bookings": row["pending_bookings"], "refunds_owed": row["refunds_owed"]},
            tuple(row))


async def _probe_microservices(dbs: _Databases, state: dict[str, Any],
                               http: httpx.AsyncClient) -> tuple[dict[str, Any], object]:
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


async def _jetstream(state: dict[str, Any], http: httpx.AsyncClient
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


class _Databases(dict[str, asyncpg.Connection]):
    """One connection per database of the deployment, open for the duration of a block."""

    def __init__(self, dsns: dict[str, str]) -> None:
        super().__init__()
        self.dsns = dsns

    async def __aenter__(self) -> _Databases:
        for name, dsn in self.dsns.items():
            try:
                self[name] = await asyncpg.connect(dsn, timeout=10)
            except (OSError, asyncpg.PostgresError) as exc:
                await self.__aexit__()
                raise HarnessError(f"cannot reach the {name} database at {dsn}: {exc}; is the "
                                   "deployment still running?") from exc
        return self

    async def __aexit__(self, *_: object) -> None:
        for conn in self.values():
            await conn.close()


# ---- reading the state ---------------------------------------------------------------------


def read_ledger(path: Path) -> Ledger:
    """The provider's journal; a last line without its newline was never acknowledged: skipped."""
    ledger = Ledger([], [])
    if not path.exists():
        return ledger
    complete = path.read_bytes().rpartition(b"\n")[0]
    for number, line in enumerate(complete.split(b"\n") if complete else [], start=1):
        if not line.strip():
            continue
        try:
            entry = orjson.loads(line)
            kind, record = entry["kind"], entry["record"]
            if kind not in ("authorization", "refund"):
                raise ValueError(f"unknown kind {kind!r}")
            missing = [f for f in LEDGER_FIELDS[kind] if f not in record]
            if missing:
                raise ValueError(f"{kind} lacks {', '.join(missing)}")
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            ledger.unreadable.append(f"line {number} unreadable: {exc}")
            continue
        (ledger.authorizations if kind == "authorization" else ledger.refunds).append(record)
    return ledger


def _booking(row: asyncpg.Record) -> Booking:
    if row["room_type_id"] is None:  # events without their BookingRequested
        return Booking(row["booking_id"], "", "", "", date.min, 0, 0, 0,
                       "without BookingRequested", None)
    return Booking(row["booking_id"], row["customer_id"], row["hotel_id"], row["room_type_id"],
                   row["check_in"], row["nights"], row["units"], row["amount_cents"],
                   row["status"], row["reason"])


async def _inventory(conn: asyncpg.Connection, table: str) -> dict[tuple[str, date], tuple[int, int]]:
    rows = await conn.fetch(f"SELECT room_type_id, night, capacity, held FROM {table}")
    return {(r["room_type_id"], r["night"]): (r["capacity"], r["held"]) for r in rows}


async def _read_monolith(dbs: _Databases) -> Snapshot:
    conn = dbs["monolith"]
    bookings = {r["booking_id"]: _booking(r)
                for r in await conn.fetch(f"SELECT {_BOOKING_COLUMNS} FROM bookings")}
    payments = {
        r["booking_id"]: Payment(r["booking_id"], r["status"], r["amount_cents"],
                                 r["authorization_id"], r["refund_id"],
                                 r["refund_status"] == "pending")
        for r in await conn.fetch("SELECT booking_id, status, amount_cents, authorization_id, "
                                  "refund_id, refund_status FROM payments")
    }
    return Snapshot("monolith", bookings, await _inventory(conn, "inventory"), payments)


async def _read_microservices(dbs: _Databases) -> Snapshot:
    rows = await dbs["booking"].fetch(_MICROSERVICE_BOOKINGS)
    bookings = {r["booking_id"]: _booking(r) for r in rows}
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
        bookings={r["booking_id"]: _booking(r)
                  for r in await query.fetch(f"SELECT {_BOOKING_COLUMNS} FROM booking_view")},
        availability=await _inventory(query, "availability_view"),
        payments={r["booking_id"]: dict(r) for r in await query.fetch(
            "SELECT booking_id, authorization_id, amount_cents, status FROM payment_view")},
    )
    return Snapshot("microservices", bookings, await _inventory(dbs["inventory"], "inventory"),
                    payments, reservations, confirmed_with, view)


async def _read(state: dict[str, Any]) -> Snapshot:
    async with _Databases(state["databases"]) as dbs:
        if state["architecture"] == "microservices":
            return await _read_microservices(dbs)
        return await _read_monolith(dbs)


# ---- the check and its report --------------------------------------------------------------


def check_deployment(state: dict[str, Any], folder: Path, *, replay: bool = True,
                     quiescence: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check the five invariants on the live deployment `state` (its deployment.json) in `folder`.

    Call wait_quiescent first and pass its answer as `quiescence` to have it in the report; the
    replay (microservices) asks each event-sourced or projected service to rebuild from the log.
    """
    started = time.monotonic()
    snap = asyncio.run(_read(state))
    ledger = read_ledger(folder / LEDGER)
    replays: list[dict[str, Any]] | None = None
    if replay and snap.read_side is not None:
        try:
            replays = replay_deployment(folder)
        except HarnessError as exc:
            replays = [{"service": "replay", "error": f"could not run: {exc}"}]
    results = check_all(snap, ledger, replays)
    total = sum(len(r.violations) for r in results)
    return {
        "architecture": state["architecture"],
        "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "folder": str(folder),
        "ok": total == 0,
        "quiescence": quiescence if quiescence is not None else {"quiescent": None,
                                                                 "note": "not waited for"},
        "totals": {"bookings": len(snap.bookings), "by_status": status_counts(snap.bookings.values()),
                   "ledger_authorizations": len(ledger.authorizations),
                   "ledger_refunds": len(ledger.refunds), "violations": total},
        "invariants": [_entry(r) for r in results],
        "duration_s": round(time.monotonic() - started, 3),
    }


def _entry(result: Result) -> dict[str, Any]:
    return {"number": result.number, "name": result.name, "checked": result.checked,
            "violation_count": len(result.violations), "violations": result.violations[:MAX_LISTED],
            "more": max(0, len(result.violations) - MAX_LISTED), "note": result.note}
