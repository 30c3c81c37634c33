"""The live audit's runtime probe: what each operation really costs, counted on a deployment.

For `list_hotels`, `search` (GET /availability), `book` (POST /bookings with an approved card,
then GET /bookings/{id} every 20 ms until a terminal status, a 404 counting as "not visible
yet"), `get_booking` and `cancel` (of the bookings the `book` batch confirmed, so made outside
their own batch), `samples` operations run one after another through the gateway. The report
gives, per operation, each counter's increase over the batch's window divided by `samples`:

- client: requests sent (polls apart), request plus response body bytes (polls included), mean
  wall time per operation up to its terminal status (a cancel's 200 already carries it);
- payment provider: new lines of its ledger journal, one per authorization or refund;
- NATS (monitoring port): messages stored over all streams (`/jsz`), deliveries summed over all
  consumers (`delivered.consumer_seq`, so redeliveries count), `/varz` in_bytes and out_bytes;
- PostgreSQL: `xact_commit + xact_rollback` per database from `pg_stat_database`, read over a
  connection to the `postgres` maintenance database so the reading adds nothing to the app's.

After a batch the probe waits for quiescence: every JetStream consumer with nothing pending and
nothing unacknowledged, and the stream and delivery totals unchanged over a 0.2 s settle (the
monolith answers synchronously; it only gets the settle). The flow counters (ledger, broker) are
read right then, and again just before the next batch, so a window holds as little as possible
of the broker's idle traffic.

PostgreSQL statistics are flushed lazily by each backend: at the end of a transaction only if
its previous flush is at least PGSTAT_MIN_INTERVAL (1 s) old, otherwise at a later transaction
that late, or once it has been idle for PGSTAT_IDLE_INTERVAL (10 s). Waiting until the counters
stop moving is unsound (a counter can stand still for 10 s and then jump), and
pg_stat_clear_snapshot() only drops the reader's own cached snapshot. So the databases are read
once every client backend of the app's databases provably has nothing of the window pending,
judged from pg_stat_activity: it is idle and it was not used since the previous reading, or it
ended a transaction more than 1 s after the system went quiet (that end flushed everything
before it), or it has been idle for more than 10 s (its idle timer fired). The apps' own
periodic work reuses their most recent connection (asyncpg pools are LIFO): the monolith's
recovery pass runs every 2 s, so that connection is flushed within 1-2 s; a connection with no
periodic work (every service's: their outbox relays publish on commit and do not poll) costs the
full 10 s.

That periodic work is a background no operation causes: transactions, and the consumers' pull
requests on the broker. It is subtracted from every window as rate x window length
(`background_per_s`): the transaction rate is measured over an idle window before the first
batch, the broker's over every idle span of the probe (the idle window and each wait for the
statistics). Background transactions arrive in bursts (one flush per cycle), so each database is
read right after one of its background flushes (the first change seen once the backends are
flushed, merged with any other within 0.3 s): windows then hold whole background cycles. What
remains is about one cycle of one process per window (4 transactions when the monolith's two
workers run their recovery passes out of phase; 5 or more seen) and, on the broker, about one
burst of pull requests timing out together, both divided by `samples`. A database counts as
touched when at least 0.5 transactions per operation remain, so with the default 10 samples a
one-statement read can fall on either side: use more samples for finer counts. A value that
noise pushes below zero is reported as 0.

"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import psutil

from harness.audit.live_common import POLL_S, TERMINAL, Catalog, expect, new_customer
from harness.config.architectures import spec_of
from harness.config.errors import HarnessError
from harness.deploy.deployment import Deployment
from harness.deploy.nats import jsz_streams
from harness.deploy.postgres import with_database

RUNTIME_OPERATIONS = ("book", "cancel", "search", "get_booking", "list_hotels")
# `book` confirms the bookings that `get_booking` reads and `cancel` cancels
PROBE_ORDER = ("list_hotels", "search", "book", "get_booking", "cancel")
SETTLE_S = 0.2
QUIESCENCE_TIMEOUT_S = 30.0
BOOKED_TIMEOUT_S = 30.0  # for a booking of the runtime probe to reach its terminal status
FLUSH_AFTER_S = 1.0 + 0.05  # PGSTAT_MIN_INTERVAL, with a margin
IDLE_FLUSH_S = 10.0 + 0.25  # PGSTAT_IDLE_INTERVAL, with a margin
FLUSH_TIMEOUT_S = 60.0
ALIGN_TIMEOUT_S = 2.5
ALIGN_MERGE_S = 0.3
ALIGN_POLL_S = 0.025
CALIBRATION_S = 4.0
TOUCHED_MIN = 0.5


# counter -> (value, time.time() at which the value held)
Reading = dict[str, tuple[float, float]]


@dataclass(frozen=True)
class _Window:
    before: Reading
    after: Reading

    def delta(self, counter: str) -> tuple[float, float]:
        """(increase, seconds) of `counter` over the window."""
        (start, t0), (end, t1) = self.before[counter], self.after[counter]
        return end - start, t1 - t0


@dataclass(frozen=True)
class _Boundary:
    end: Reading  # closes a window: databases once flushed, the flow as soon as it was quiet
    start: Reading  # opens the next one: the same databases, the flow read again
    moved: set[str]  # databases whose counters moved while aligning

    @property
    def idle(self) -> _Window:
        """From quiescence to the end of the boundary nothing but the background runs."""
        return _Window(self.end, self.start)



@dataclass
class _Tally:
    """What the client did in one batch."""

    requests: int = 0
    polls: int = 0
    bytes: int = 0

    async def send(self, client: httpx.AsyncClient, method: str, url: str, *,
                   poll: bool = False, **kwargs: Any) -> httpx.Response:
        response = await client.request(method, url, **kwargs)
        if poll:
            self.polls += 1
        else:
            self.requests += 1
        self.bytes += len(response.request.content) + len(response.content)
        return response


@dataclass
class _Meter:
    """Reads every counter at a batch boundary, once the system is quiet and flushed."""

    pg: asyncpg.Connection
    http: httpx.AsyncClient
    databases: dict[str, str]  # database name on the server -> deployment key
    monitor: str | None
    ledger: Path
    since: float = 0.0  # when the previous boundary was taken

    async def boundary(self, align: set[str]) -> _Boundary:
        """Wait for quiescence and read the flow counters (broker, ledger), wait until every
        backend is flushed and read the databases (those in `align` right after a background
        flush), then read the flow counters again."""
        await self._quiesce()
        quiet = await self._flow()
        await self._wait_flushed(time.time())
        databases, moved = await self._aligned(align)
        start = {**databases, **await self._flow()}
        self.since = time.time()
        return _Boundary({**databases, **quiet}, start, moved)

    async def _flow(self) -> Reading:
        now = time.time()
        reading = {"provider_calls": (float(_lines(self.ledger)), now)}
        if self.monitor is not None:
            reading.update({name: (value, now) for name, value in (await self._broker()).items()})
        return reading

    async def _quiesce(self) -> None:
        if self.monitor is None:
            await asyncio.sleep(SETTLE_S)
            return
        deadline = time.monotonic() + QUIESCENCE_TIMEOUT_S
        previous: tuple[int, int] | None = None
        while True:
            consumers, totals = await self._consumers()
            busy = any(c["num_pending"] or c["num_ack_pending"] for c in consumers)
            if not busy and totals == previous:
                return
            if time.monotonic() > deadline:
                raise HarnessError(f"the event flow did not settle within "
                                   f"{QUIESCENCE_TIMEOUT_S:.0f} s")
            previous = None if busy else totals
            await asyncio.sleep(SETTLE_S)

    async def _consumers(self) -> tuple[list[dict[str, Any]], tuple[int, int]]:
        response = await self.http.get(f"{self.monitor}/jsz",
                                       params={"streams": "true", "consumers": "true"})
        streams = jsz_streams(response.json())
        consumers = [c for s in streams for c in s.get("consumer_detail", [])]
        messages = sum(int(s["state"]["messages"]) for s in streams)
        delivered = sum(int(c["delivered"]["consumer_seq"]) for c in consumers)
        return consumers, (messages, delivered)

    async def _broker(self) -> dict[str, float]:
        _, (messages, delivered) = await self._consumers()
        varz = (await self.http.get(f"{self.monitor}/varz")).json()
        return {"events_published": float(messages), "deliveries": float(delivered),
                "broker_bytes_in": float(varz["in_bytes"]),
                "broker_bytes_out": float(varz["out_bytes"])}

    async def _wait_flushed(self, quiet_from: float) -> None:
        deadline = time.monotonic() + FLUSH_TIMEOUT_S
        while True:
            rows = await self.pg.fetch(
                "SELECT state, extract(epoch FROM state_change)::float8 AS changed "
                "FROM pg_stat_activity "
                "WHERE backend_type = 'client backend' AND datname = ANY($1::text[])",
                list(self.databases))
            now = time.time()
            if all(r["state"] == "idle" and r["changed"] is not None
                   and (r["changed"] < self.since or r["changed"] > quiet_from + FLUSH_AFTER_S
                        or now - r["changed"] > IDLE_FLUSH_S) for r in rows):
                return
            if time.monotonic() > deadline:
                raise HarnessError("PostgreSQL backends kept statistics pending for "
                                   f"{FLUSH_TIMEOUT_S:.0f} s after the system went quiet")
            await asyncio.sleep(0.05)

    async def _aligned(self, align: set[str]) -> tuple[Reading, set[str]]:
        values = await self._transactions()
        now = time.time()
        reading: Reading = {f"db:{self.databases[name]}": (value, now)
                            for name, value in values.items()}
        moved: dict[str, float] = {}
        waiting = set(align)
        deadline = now + ALIGN_TIMEOUT_S
        while waiting and time.time() < deadline:
            await asyncio.sleep(ALIGN_POLL_S)
            current = await self._transactions()
            now = time.time()
            for name in list(waiting):
                if current[name] != values[name]:
                    values[name] = current[name]
                    reading[f"db:{self.databases[name]}"] = (current[name], now)
                    moved[name] = now
                elif name in moved and now - moved[name] >= ALIGN_MERGE_S:
                    waiting.discard(name)
        return reading, set(moved)

    async def _transactions(self) -> dict[str, float]:
        rows = await self.pg.fetch(
            "SELECT datname, xact_commit + xact_rollback AS xacts FROM pg_stat_database "
            "WHERE datname = ANY($1::text[])", list(self.databases))
        return {r["datname"]: float(r["xacts"]) for r in rows}


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


@dataclass
class _Probe:
    runtime: dict[str, dict[str, Any]]
    background: dict[str, float]
    clients: dict[str, list[str]]


async def runtime_probe(dep: Deployment, catalog: Catalog, samples: int,
                         step: Callable[[str], None]) -> _Probe:
    names = {_database_name(dsn): key for key, dsn in dep.databases.items()}
    any_dsn = next(iter(dep.databases.values()))
    pg = await asyncpg.connect(with_database(any_dsn, "postgres"), timeout=10)
    try:
        async with httpx.AsyncClient(timeout=10) as http, \
                httpx.AsyncClient(base_url=dep.base_url, timeout=10) as client:
            meter = _Meter(pg, http, names, dep.endpoints.get("nats_monitor"),
                           dep.root / "payment_provider" / "ledger.jsonl")
            if spec_of(dep.architecture).kind == "services" and meter.monitor is None:
                raise HarnessError("the deployment recorded no NATS monitoring URL")
            step("waiting for statistics to flush, then measuring the idle background")
            first = await meter.boundary(align=set(names))
            await asyncio.sleep(CALIBRATION_S)
            second = await meter.boundary(align=first.moved)
            idle = [first.idle, _Window(first.start, second.end), second.idle]
            calibration = _background(idle)
            periodic = {name for name, key in names.items() if calibration[f"db:{key}"] > 0}
            batches = _Batches(client, catalog)
            runs: dict[str, tuple[_Tally, float, _Window]] = {}
            previous = second
            for op in PROBE_ORDER:
                step(f"runtime probe: {samples} x {op}")
                tally = _Tally()
                began = time.perf_counter()
                for i in range(samples):
                    await batches.run(op, tally, i)
                wall = time.perf_counter() - began
                boundary = await meter.boundary(align=periodic)
                runs[op] = (tally, wall, _Window(previous.start, boundary.end))
                idle.append(boundary.idle)
                previous = boundary
            background = _background(idle)
            measured = {op: _per_operation(*runs[op], background, samples, sorted(dep.databases))
                        for op in RUNTIME_OPERATIONS}
            clients = await _database_clients(dep, pg, names)
    except httpx.HTTPError as exc:
        raise HarnessError(f"runtime probe: {type(exc).__name__}: {exc}") from exc
    finally:
        await pg.close()
    return _Probe(measured, {c: round(rate, 3) for c, rate in sorted(background.items())},
                  clients)


def _background(idle: list[_Window]) -> dict[str, float]:
    """Per counter, the rate at which it grows with nothing but the background running."""
    rates = {}
    for counter in idle[0].after:
        deltas = [w.delta(counter) for w in idle]
        seconds = sum(s for _, s in deltas)
        rates[counter] = sum(g for g, _ in deltas) / seconds if seconds > 0 else 0.0
    return rates


@dataclass
class _Batches:
    """One operation of the runtime probe at a time, on the client's tally."""

    client: httpx.AsyncClient
    catalog: Catalog
    confirmed: list[str] = field(default_factory=list)

    async def run(self, op: str, tally: _Tally, i: int) -> None:
        if op == "list_hotels":
            expect(await tally.send(self.client, "GET", "/hotels"), 200)
        elif op == "search":
            expect(await tally.send(self.client, "GET", "/availability",
                                     params=self.catalog.search(i)), 200)
        elif op == "book":
            booking = await self._book(tally)
            if booking["status"] != "confirmed":
                raise HarnessError(f"runtime probe: booking {booking['booking_id']} ended "
                                   f"{booking['status']} ({booking['reason']}), not confirmed")
            self.confirmed.append(booking["booking_id"])
        elif op == "get_booking":
            booking_id = self.confirmed[i % len(self.confirmed)]
            expect(await tally.send(self.client, "GET", f"/bookings/{booking_id}"), 200)
        elif op == "cancel":
            expect(await tally.send(self.client, "POST",
                                     f"/bookings/{self.confirmed[i]}/cancel"), 200)
        else:
            raise ValueError(op)

    async def _book(self, tally: _Tally) -> dict[str, Any]:
        response = expect(await tally.send(self.client, "POST", "/bookings",
                                            json=self.catalog.booking(new_customer())), 201, 202)
        booking: dict[str, Any] = response.json()
        deadline = time.monotonic() + BOOKED_TIMEOUT_S
        while booking["status"] not in TERMINAL:
            if time.monotonic() > deadline:
                raise HarnessError(f"runtime probe: booking {booking['booking_id']} still "
                                   f"{booking['status']} after {BOOKED_TIMEOUT_S:.0f} s")
            await asyncio.sleep(POLL_S)
            polled = expect(await tally.send(self.client, "GET",
                                              f"/bookings/{booking['booking_id']}", poll=True),
                             200, 404)
            if polled.status_code == 200:
                booking = polled.json()
        return booking


def _per_operation(tally: _Tally, wall: float, window: _Window, background: dict[str, float],
                   samples: int, databases: list[str]) -> dict[str, Any]:
    def per_op(counter: str) -> float:
        if counter not in window.after:
            return 0.0
        grew, seconds = window.delta(counter)
        return max(0.0, (grew - background[counter] * seconds) / samples)

    transactions = {db: round(per_op(f"db:{db}"), 2) for db in databases
                    if per_op(f"db:{db}") >= TOUCHED_MIN}
    return {
        "samples": samples,
        "client_requests": round(tally.requests / samples, 2),
        "client_polls": round(tally.polls / samples, 2),
        "client_bytes": round(tally.bytes / samples, 2),
        **{c: round(per_op(c), 2) for c in ("provider_calls", "events_published", "deliveries",
                                             "broker_bytes_in", "broker_bytes_out")},
        "db_transactions": transactions,
        "databases_touched": len(transactions),
        "wall_s": round(wall / samples, 4),
    }


def _database_name(dsn: str) -> str:
    return urlsplit(dsn).path.lstrip("/")


async def _database_clients(dep: Deployment, pg: asyncpg.Connection,
                            names: dict[str, str]) -> dict[str, list[str]]:
    """Which process holds each backend: pg_stat_activity's client_port matched against the TCP
    connections of every supervised process and its children."""
    rows = await pg.fetch(
        "SELECT datname, client_port FROM pg_stat_activity "
        "WHERE backend_type = 'client backend' AND datname = ANY($1::text[])", list(names))
    server_port = urlsplit(next(iter(dep.databases.values()))).port
    owners: dict[int, str] = {}
    for managed in dep.processes:
        try:
            root = psutil.Process(managed.pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for proc in tree:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                for conn in proc.net_connections(kind="tcp"):
                    if conn.raddr and conn.raddr.port == server_port:
                        owners[conn.laddr.port] = managed.name
    clients: dict[str, set[str]] = {key: set() for key in dep.databases}
    for row in rows:
        clients[names[row["datname"]]].add(owners.get(row["client_port"], "unknown"))
    return {key: sorted(found) for key, found in clients.items()}
