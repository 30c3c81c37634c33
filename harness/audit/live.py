"""The live part of `archbench audit`: deploy one architecture, measure what each operation really
costs and what fails while one process is stopped, then tear everything down.

Runtime probe
-------------
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
periodic work reuses their most recent connection (asyncpg pools are LIFO): the outbox relays
poll every 0.2 s, the monolith's recovery pass runs every 2 s, so that connection is flushed
within 1-2 s; a connection with no periodic work (the query service's) costs the full 10 s.

That periodic work is a background no operation causes: transactions, and the consumers' pull
requests on the broker. It is subtracted from every window as rate x window length
(`background_per_s`): the transaction rate is measured over an idle window before the first
batch, the broker's over every idle span of the probe (the idle window and each wait for the
statistics). Background transactions arrive in bursts (one flush per cycle), so each database is
read right after one of its background flushes (the first change seen once the backends are
flushed, merged with any other within 0.3 s): windows then hold whole background cycles. What
remains is at most one cycle of one process per window (4 transactions when the monolith's two
workers run their recovery passes out of phase) and, on the broker, at most one burst of pull
requests timing out together, both divided by `samples`. A database counts as touched when at
least 0.5 transactions per operation remain; a value that noise pushes below zero is reported
as 0.

Availability matrix
-------------------
Each process of the deployment in turn (every service or the monolith, postgres, nats, the
payment provider, caddy) is stopped by freezing it: SIGSTOP to the process, then to all its
descendants (uvicorn workers, postgres backends: these call setsid(), so the process group of
the postmaster alone would leave them running), the root first so that it cannot fork a child
that escapes. Only this deployment's processes are signalled, by pid, and SIGCONT always follows
in a `finally`, before the deployment's teardown, on success, error or Ctrl-C. Freezing rather
than killing because the harness has no restart logic (a killed process would stay dead and
bias every later row), and because a frozen peer is the harshest failure for its clients: its
connections stay open, nothing is refused or reset, a client only learns of it by timing out.

Before freezing, two confirmed bookings are prepared (one to read, one to cancel). While frozen,
every operation runs once, all concurrently, with a 2 s timeout per request. "ok" is the
contract's success: health 200, list_hotels (GET /hotels) 200, availability 200, book_accept 201
or 202, book_complete a terminal status seen (in the 201 itself, or by polling GET
/bookings/{id} for up to 5 s after a 202; not attempted when book_accept failed), get_booking
200, cancel 200, customer_bookings 200. After SIGCONT, rounds of every operation (this time
reading and cancelling the round's own booking once confirmed) repeat until one is fully ok:
`recovery_s` is the time from SIGCONT to the end of that round, None when 60 s were not enough
(the failures are in `recovery_errors`). `completed_after_resume` says whether the booking
accepted but not finished during the outage reached a terminal status after the resume (within
10 s of the recovery), None when there was no such booking.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import asyncpg
import httpx
import psutil

from harness.config.errors import HarnessError
from harness.config.scenario import Architecture, Scenario
from harness.deploy.deployment import Deployment, deployed
from harness.deploy.footprint import overhead
from harness.deploy.nats import jsz_streams
from harness.deploy.postgres import with_database
from harness.deploy.supervisor import frozen, stop_signals_interrupt

OPERATIONS: tuple[str, ...] = ("health", "list_hotels", "availability", "book_accept",
                               "book_complete", "get_booking", "cancel", "customer_bookings")
RUNTIME_OPERATIONS = ("book", "cancel", "search", "get_booking", "list_hotels")
# `book` confirms the bookings that `get_booking` reads and `cancel` cancels
PROBE_ORDER = ("list_hotels", "search", "book", "get_booking", "cancel")

REQUEST_TIMEOUT_S = 2.0
COMPLETION_TIMEOUT_S = 5.0
RECOVERY_TIMEOUT_S = 60.0
PENDING_GRACE_S = 10.0  # after recovery, for the booking accepted during the outage
POLL_S = 0.02
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
APPROVED_CARD = "tok_visa"
TERMINAL = frozenset({"confirmed", "rejected", "cancelled"})

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


def live_audit(architecture: str, scenario: Scenario, root: Path, *, samples: int = 10,
               step: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Deploy `architecture` with the scenario's dataset, workers and payment latency, measure,
    tear down. Returns a JSON-serialisable dict. Everything started is stopped on success, error,
    KeyboardInterrupt.

    The payment provider declines nothing here, whatever the scenario's decline rate: every probe
    booking confirms, so the counts are those of one confirmed booking (and one cancel of it), and
    the bookings the availability rows read and cancel always exist."""
    if architecture not in ("monolith", "microservices"):
        raise HarnessError(f"unknown architecture {architecture!r}")
    if samples < 1:
        raise HarnessError("samples must be at least 1")
    scenario = scenario.model_copy(update={"payment_provider": scenario.payment_provider.model_copy(
        update={"decline_rate": 0.0})})
    started = time.monotonic()
    # SIGINT and SIGTERM raise KeyboardInterrupt at once, also inside the event loops: asyncio's
    # own SIGINT handling only cancels the running task, which an in-flight HTTP request may
    # turn into an ordinary error, and the audit would go on
    interrupts = (stop_signals_interrupt() if threading.current_thread() is threading.main_thread()
                  else contextlib.nullcontext())
    with interrupts, deployed(cast(Architecture, architecture), scenario, root=root,
                              step=step) as dep:
        deploy_s = time.monotonic() - started
        step("reading the deployed schemas")
        schemas = asyncio.run(_schemas(dep.databases))
        catalog = asyncio.run(_catalog(dep.base_url, scenario))
        probe_started = time.monotonic()
        probe = asyncio.run(_runtime_probe(dep, catalog, samples, step))
        probe_s = time.monotonic() - probe_started
        processes = overhead(dep)["processes"]
        availability = _availability(dep, catalog, step)
        step("tearing down")
        teardown_started = time.monotonic()
    teardown_s = time.monotonic() - teardown_started
    return {
        "architecture": architecture,
        "schemas": schemas,
        "database_clients": probe.clients,
        "runtime": probe.runtime,
        "background_per_s": probe.background,
        "availability": availability,
        "e2e_pass": {
            "processes": processes, "deploy_s": round(deploy_s, 3), "probe_s": round(probe_s, 3),
            "teardown_s": round(teardown_s, 3),
            "total_s": round(deploy_s + probe_s + teardown_s, 3),
        },
    }


# ---------------------------------------------------------------- dataset and bookings


@dataclass
class _Catalog:
    """The deployed hotels and room types, and one-night one-unit stays handed out in turn over
    every (night, room type), so the audit's bookings are not sold out while capacity lasts."""

    hotels: list[str]
    room_types: list[str]
    scenario: Scenario
    _stays: Iterator[tuple[str, str]] = field(init=False)

    def __post_init__(self) -> None:
        start, nights = self.scenario.dataset.start_date, self.scenario.dataset.horizon_days
        self._stays = itertools.cycle([
            (room_type, (start + timedelta(days=night)).isoformat())
            for night in range(nights) for room_type in self.room_types
        ])

    def booking(self, customer_id: str) -> dict[str, Any]:
        room_type, check_in = next(self._stays)
        return {"customer_id": customer_id, "room_type_id": room_type, "check_in": check_in,
                "nights": 1, "units": 1, "card_token": APPROVED_CARD}

    def search(self, i: int) -> dict[str, Any]:
        dataset = self.scenario.dataset
        night = dataset.start_date + timedelta(days=i % dataset.horizon_days)
        return {"hotel_id": self.hotels[i % len(self.hotels)], "check_in": night.isoformat(),
                "nights": 1}


async def _catalog(base_url: str, scenario: Scenario) -> _Catalog:
    hotels: list[str] = []
    room_types: list[str] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        for offset in itertools.count(0, 100):
            response = _expect(await client.get("/hotels", params={"limit": 100,
                                                                   "offset": offset}), 200)
            page = response.json()["hotels"]
            hotels += [h["hotel_id"] for h in page]
            room_types += [r["room_type_id"] for h in page for r in h["room_types"]]
            if len(page) < 100:
                break
    if not room_types:
        raise HarnessError("GET /hotels lists no room types: nothing to book")
    return _Catalog(hotels, room_types, scenario)


def _customer() -> str:
    return f"audit-{uuid.uuid4().hex[:16]}"


def _expect(response: httpx.Response, *statuses: int) -> httpx.Response:
    if response.status_code not in statuses:
        raise HarnessError(f"{response.request.method} {response.request.url.path} answered "
                           f"{response.status_code}: {response.text[:300]}")
    return response


# ---------------------------------------------------------------- schemas


async def _schemas(databases: dict[str, str]) -> dict[str, dict[str, list[str]]]:
    out = {}
    for key, dsn in databases.items():
        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            rows = await conn.fetch(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
        finally:
            await conn.close()
        out[key] = {"tables": sorted(r["table_name"] for r in rows)}
    return out


# ---------------------------------------------------------------- runtime probe


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


async def _runtime_probe(dep: Deployment, catalog: _Catalog, samples: int,
                         step: Callable[[str], None]) -> _Probe:
    names = {_database_name(dsn): key for key, dsn in dep.databases.items()}
    any_dsn = next(iter(dep.databases.values()))
    pg = await asyncpg.connect(with_database(any_dsn, "postgres"), timeout=10)
    try:
        async with httpx.AsyncClient(timeout=10) as http, \
                httpx.AsyncClient(base_url=dep.base_url, timeout=10) as client:
            meter = _Meter(pg, http, names, dep.endpoints.get("nats_monitor"),
                           dep.root / "payment_provider" / "ledger.jsonl")
            if dep.architecture == "microservices" and meter.monitor is None:
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
    catalog: _Catalog
    confirmed: list[str] = field(default_factory=list)

    async def run(self, op: str, tally: _Tally, i: int) -> None:
        if op == "list_hotels":
            _expect(await tally.send(self.client, "GET", "/hotels"), 200)
        elif op == "search":
            _expect(await tally.send(self.client, "GET", "/availability",
                                     params=self.catalog.search(i)), 200)
        elif op == "book":
            booking = await self._book(tally)
            if booking["status"] != "confirmed":
                raise HarnessError(f"runtime probe: booking {booking['booking_id']} ended "
                                   f"{booking['status']} ({booking['reason']}), not confirmed")
            self.confirmed.append(booking["booking_id"])
        elif op == "get_booking":
            booking_id = self.confirmed[i % len(self.confirmed)]
            _expect(await tally.send(self.client, "GET", f"/bookings/{booking_id}"), 200)
        elif op == "cancel":
            _expect(await tally.send(self.client, "POST",
                                     f"/bookings/{self.confirmed[i]}/cancel"), 200)
        else:
            raise ValueError(op)

    async def _book(self, tally: _Tally) -> dict[str, Any]:
        response = _expect(await tally.send(self.client, "POST", "/bookings",
                                            json=self.catalog.booking(_customer())), 201, 202)
        booking: dict[str, Any] = response.json()
        deadline = time.monotonic() + BOOKED_TIMEOUT_S
        while booking["status"] not in TERMINAL:
            if time.monotonic() > deadline:
                raise HarnessError(f"runtime probe: booking {booking['booking_id']} still "
                                   f"{booking['status']} after {BOOKED_TIMEOUT_S:.0f} s")
            await asyncio.sleep(POLL_S)
            polled = _expect(await tally.send(self.client, "GET",
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


# ---------------------------------------------------------------- availability matrix


@dataclass
class _Outcome:
    ok: bool
    status: int | None
    error: str | None
    ms: float


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _error_of(response: httpx.Response) -> str:
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = response.text[:120] or "empty body"
    return f"HTTP {response.status_code}: {code}"


async def _call(request: Awaitable[httpx.Response], *expected: int
                ) -> tuple[_Outcome, httpx.Response | None]:
    started = time.perf_counter()
    try:
        response = await request
    except httpx.HTTPError as exc:
        return _Outcome(False, None, _describe(exc), _ms(started)), None
    ok = response.status_code in expected
    return _Outcome(ok, response.status_code, None if ok else _error_of(response),
                    _ms(started)), response


def _skipped(reason: str) -> _Outcome:
    return _Outcome(False, None, f"not attempted: {reason}", 0.0)


async def _completion(client: httpx.AsyncClient, accepted: httpx.Response,
                      started: float) -> tuple[_Outcome, dict[str, Any]]:
    """Wait up to COMPLETION_TIMEOUT_S after the answer for a terminal status."""
    booking: dict[str, Any] = accepted.json()
    if booking["status"] in TERMINAL:
        return _Outcome(True, accepted.status_code, None, _ms(started)), booking
    deadline = time.perf_counter() + COMPLETION_TIMEOUT_S
    status, last = None, "still pending"
    while time.perf_counter() < deadline:
        await asyncio.sleep(POLL_S)
        try:
            response = await client.get(f"/bookings/{booking['booking_id']}", timeout=max(
                0.01, min(REQUEST_TIMEOUT_S, deadline - time.perf_counter())))
        except httpx.HTTPError as exc:
            status, last = None, _describe(exc)
            continue
        status = response.status_code
        if status == 200:
            booking = response.json()
            if booking["status"] in TERMINAL:
                return _Outcome(True, 200, None, _ms(started)), booking
            last = f"still {booking['status']}"
        else:
            last = "not visible yet" if status == 404 else _error_of(response)
    return _Outcome(False, status, f"no terminal status within {COMPLETION_TIMEOUT_S:.0f} s "
                    f"({last})", _ms(started)), booking


@dataclass
class _Round:
    outcomes: dict[str, _Outcome]
    unfinished: str | None  # a booking accepted in this round without a terminal status yet

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes.values())


async def _every_operation(client: httpx.AsyncClient, catalog: _Catalog,
                           ready: tuple[str, str, str] | None) -> _Round:
    """Each operation once, concurrently. `ready` is (customer, booking to read, booking to
    cancel), prepared beforehand; without it the round reads and cancels its own booking once
    it is confirmed."""
    customer = ready[0] if ready else _customer()

    async def single(op: str, request: Awaitable[httpx.Response]) -> dict[str, _Outcome]:
        outcome, _ = await _call(request, 200)
        return {op: outcome}

    async def read_and_cancel(booking_id: str) -> dict[str, _Outcome]:
        return {**await single("get_booking", client.get(f"/bookings/{booking_id}")),
                **await single("cancel", client.post(f"/bookings/{booking_id}/cancel"))}

    unfinished: str | None = None

    async def book() -> dict[str, _Outcome]:
        nonlocal unfinished
        started = time.perf_counter()
        accept, response = await _call(client.post("/bookings", json=catalog.booking(customer)),
                                       201, 202)
        if response is None or not accept.ok:
            complete, booking = _skipped("book_accept failed"), {}
        else:
            complete, booking = await _completion(client, response, started)
            if not complete.ok:
                unfinished = booking["booking_id"]
        out = {"book_accept": accept, "book_complete": complete}
        if ready:
            return out
        if booking.get("status") == "confirmed":
            return {**out, **await read_and_cancel(booking["booking_id"])}
        reason = "this round's booking did not confirm"
        return {**out, "get_booking": _skipped(reason), "cancel": _skipped(reason)}

    work = [single("health", client.get("/health")),
            single("list_hotels", client.get("/hotels")),
            single("availability", client.get("/availability", params=catalog.search(0))),
            single("customer_bookings", client.get(f"/customers/{customer}/bookings")),
            book()]
    if ready:
        work += [single("get_booking", client.get(f"/bookings/{ready[1]}")),
                 single("cancel", client.post(f"/bookings/{ready[2]}/cancel"))]
    found = {op: o for part in await asyncio.gather(*work) for op, o in part.items()}
    return _Round({op: found[op] for op in OPERATIONS}, unfinished)


async def _prepare(base_url: str, catalog: _Catalog) -> tuple[str, str, str]:
    """A customer with two confirmed bookings: one to read, one to cancel."""
    customer = _customer()
    booked = []
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        for _ in range(2):
            started = time.perf_counter()
            response = _expect(await client.post("/bookings", json=catalog.booking(customer)),
                               201, 202)
            outcome, booking = await _completion(client, response, started)
            if not outcome.ok or booking["status"] != "confirmed":
                raise HarnessError(f"availability: could not prepare a confirmed booking "
                                   f"({outcome.error or booking['status']})")
            booked.append(booking["booking_id"])
    return customer, booked[0], booked[1]


async def _outage(base_url: str, catalog: _Catalog, ready: tuple[str, str, str]) -> _Round:
    async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
        return await _every_operation(client, catalog, ready)


async def _recovery(base_url: str, catalog: _Catalog, resumed: float, unfinished: str | None
                    ) -> tuple[float | None, str | None, bool | None]:
    """(seconds until a fully working round, the failures if there was none within
    RECOVERY_TIMEOUT_S, whether the booking left unfinished by the outage completed)."""
    took: float | None = None
    error: str | None = None
    async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
        while True:
            attempt = await _every_operation(client, catalog, None)
            if attempt.ok:
                took = time.monotonic() - resumed
                break
            if time.monotonic() - resumed > RECOVERY_TIMEOUT_S:
                error = "; ".join(f"{op}: {o.error}" for op, o in attempt.outcomes.items()
                                  if not o.ok)
                break
            await asyncio.sleep(0.1)
        completed = None
        if unfinished is not None:
            completed = await _reaches_terminal(client, unfinished)
    return took, error, completed


async def _reaches_terminal(client: httpx.AsyncClient, booking_id: str) -> bool:
    deadline = time.monotonic() + PENDING_GRACE_S
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            response = await client.get(f"/bookings/{booking_id}")
            if response.status_code == 200 and response.json()["status"] in TERMINAL:
                return True
        await asyncio.sleep(0.1)
    return False


def _availability(dep: Deployment, catalog: _Catalog,
                  step: Callable[[str], None]) -> dict[str, Any]:
    matrix: dict[str, dict[str, dict[str, Any]]] = {}
    recovery: dict[str, float | None] = {}
    errors: dict[str, str] = {}
    completed: dict[str, bool | None] = {}
    for managed in dep.processes:
        step(f"availability: {managed.name} frozen")
        ready = asyncio.run(_prepare(dep.base_url, catalog))
        with frozen(managed):
            outage = asyncio.run(_outage(dep.base_url, catalog, ready))
        resumed = time.monotonic()
        step(f"availability: {managed.name} resumed, waiting for every operation to work")
        took, error, done = asyncio.run(_recovery(dep.base_url, catalog, resumed,
                                                  outage.unfinished))
        matrix[managed.name] = {op: asdict(o) for op, o in outage.outcomes.items()}
        recovery[managed.name] = None if took is None else round(took, 3)
        completed[managed.name] = done
        if error is not None:
            errors[managed.name] = error
    return {
        "deployables": [p.name for p in dep.processes],
        "operations": list(OPERATIONS),
        "matrix": matrix,
        "recovery_s": recovery,
        "recovery_errors": errors,
        "completed_after_resume": completed,
    }
