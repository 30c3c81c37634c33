"""SimPy models of the monolith and the event-driven microservices, driven by a scenario file.

Scenario: the scenario's workload mix arrives open-loop (Poisson or fixed rate, at most
`load.max_concurrency` in flight; a late request's latency counts from its intended start, as in
loadtests) or closed-loop (users with uniform think time). Every request goes client → Caddy →
app → Caddy → client; each arrow is a network hop of its own. The database is PostgreSQL: a
connection pool per app process, one round trip and one burst of backend CPU per statement, a
WAL flush at commit, a row lock on the room type a booking holds. The broker is JetStream: a
publish is stored (CPU plus a persistence delay) before its ack; each durable consumer gets the
message as it arrives (deliver, handle, ack), `concurrency` at once (events of one booking in
order), except the query service's projections, which apply what has arrived in one transaction
per batch. Each service has one outbox relay
that publishes what a transaction committed from memory, right after the commit, and deletes the
published rows at most every `RELAY_DELETE_EVERY_S`, one DELETE for all of them.

- monolith: `POST /bookings` holds and records in one transaction, calls the payment provider,
  confirms in a second transaction, and answers with the terminal status (book_e2e = book).
- microservices: `POST /bookings` records the command and answers 202; BookingRequested →
  inventory → InventoryReserved → payment (provider call) → PaymentAuthorized → booking →
  BookingConfirmed → query; the client polls `GET /bookings/{id}` until the query side shows a
  terminal status (book_e2e): held by the query service until the booking settles when the
  scenario's `poll_wait_s` is set, else every `poll_interval_s`. Read-model lag is commit-to-projection.

Parameters (sim.params.Calibration, seconds): CPU per visit of every process (a visit is an HTTP
request handled, a statement, a message moved), background CPU, hop, broker persistence, commit,
and per-operation residual latency. Hosts share their cores among all bursts placed on them
(processor sharing); a process runs at most `threads` bursts at once (uvicorn workers, one event
loop per service, a backend per PostgreSQL connection, Go's scheduler for Caddy and NATS).

Over 400 lines on purpose: both models are subclasses of one `System` (hosts, hops, pools, the
database) and differ in a few dozen lines each; kept together so the two can be read side by side.

The SQL round trips per operation below were counted in apps/ (never imported: the model is an
independent description, checked against the service manifests in tests).
"""

from __future__ import annotations

import bisect
import math
import random
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy
from simpy.events import Event

from harness.config.architectures import spec_of
from harness.config.scenario import Scenario
from sim.engine import Host, Proc, Tokens, scheduled_events
from sim.params import COMPONENTS, OPERATIONS, ArchParams, Calibration, Component

POOL_SIZE = 10  # asyncpg pool_max per app process (apps' default)
PG_CONNECTIONS = 100
RELAY_BATCH = 512
RELAY_DELETE_EVERY_S = 0.2  # apps.microservices.common.relay.DELETE_EVERY_S

# SQL round trips (BEGIN and COMMIT included) per unit of work
MONOLITH_READS = {"search_availability": 1, "list_hotels": 1, "view_booking": 1,
                  "list_customer_bookings": 1}
MONOLITH_HOLD_TX = 8  # BEGIN, claim key, SAVEPOINT, hold UPDATE, RELEASE, insert, intent, COMMIT
MONOLITH_SETTLE_TX = 6  # BEGIN, get FOR UPDATE, transition, payment, notification, COMMIT
MONOLITH_CANCEL_TX = 7  # BEGIN, get FOR UPDATE, transition, release, owe refund, notify, COMMIT
MONOLITH_REFUND = 2  # find owed refund, mark refunded
COMMAND_TX = 6  # booking: BEGIN, command, idempotency key / load, append, outbox, COMMIT
HANDLER_TX = 4  # BEGIN, inbox, outbox, COMMIT (+ the handler's own statements)
PROJECTION_TX = 3  # query, per batch: BEGIN, inbox claim (records read lag), COMMIT (+ 1 per event)
PROJECTION_BATCH = 256  # the most events one projection transaction applies

# microservices: who consumes what (durable consumers), with their pull-loop concurrency
CONSUMERS: tuple[tuple[str, str, tuple[str, ...], int], ...] = (
    # (service, producer, event types, concurrency: aggregates handled at once; 0 = in batches)
    ("inventory", "booking", ("BookingRequested", "BookingRejected", "BookingCancelled"), 16),
    ("payment", "inventory", ("InventoryReserved",), 32),
    ("payment", "booking", ("BookingCancelled",), 8),
    ("notification", "booking", ("BookingConfirmed", "BookingRejected", "BookingCancelled"), 8),
    ("booking", "inventory", ("InventoryRejected",), 16),
    ("booking", "payment", ("PaymentAuthorized", "PaymentDeclined"), 16),
    ("query", "booking", ("BookingRequested", "BookingConfirmed", "BookingRejected",
                          "BookingCancelled"), 0),
    ("query", "inventory", ("InventoryReserved", "InventoryRejected", "InventoryReleased"), 0),
    ("query", "payment", ("PaymentAuthorized", "PaymentDeclined", "PaymentRefunded"), 0),
    ("query", "notification", ("NotificationSent",), 0),
)
EMITS = {
    "booking": ("BookingRequested", "BookingConfirmed", "BookingRejected", "BookingCancelled"),
    "inventory": ("InventoryReserved", "InventoryRejected", "InventoryReleased"),
    "payment": ("PaymentAuthorized", "PaymentDeclined", "PaymentRefunded"),
    "notification": ("NotificationSent",),
}
TERMINAL = frozenset({"BookingConfirmed", "BookingRejected"})
SERVICES = ("booking", "inventory", "payment", "notification", "query")
PLACEMENT_ORDER = {
    "monolith": ("postgres", "caddy", "payment_provider", "monolith"),
    "microservices": ("postgres", "nats", "caddy", "payment_provider", "booking", "inventory",
                      "payment", "notification", "query"),
}


@dataclass(frozen=True)
class Settings:
    """Everything one simulation needs, resolved from a scenario and a calibration."""

    architecture: str
    params: ArchParams
    model: str  # open | closed
    system: str  # the simulation model of the architecture (MODELS), as the registry names it
    arrival: str  # poisson | fixed
    level: float  # requests/s (open) or users (closed)
    think_time_s: tuple[float, float]
    max_concurrency: int
    weights: dict[str, float]
    poll_interval_s: float
    poll_wait_s: float
    payment_latency: str
    decline_rate: float
    lock_keys: int
    workers: int
    replicas: dict[str, int]
    hosts: int
    cores_per_host: float
    generator_on_host: bool
    generator_cores: float | None
    hop_s: float
    broker_persist_s: float
    db_commit_s: float
    duration_s: float
    warmup_s: float
    seed: int


def settings_for(scenario: Scenario, cal: Calibration, architecture: str, level: float,
                 seed: int) -> Settings:
    sim = scenario.sim
    hop = cal.hop_s if sim.network_rtt_ms is None else sim.network_rtt_ms / 2e3
    persist = cal.broker_persist_s if sim.broker_latency_ms is None else sim.broker_latency_ms / 1e3
    spec = spec_of(architecture)
    # a calibration holds each model's parameters: an architecture runs on its model's
    return Settings(
        architecture=architecture, params=cal.arch(spec.sim_model), model=scenario.load.model,
        system=spec.sim_model,
        arrival=scenario.load.arrival, level=level, think_time_s=scenario.load.think_time_s,
        max_concurrency=scenario.load.max_concurrency,
        weights={op: float(w) for op, w in scenario.workload.weights.items() if w > 0},
        poll_interval_s=scenario.workload.poll_interval_s,
        poll_wait_s=scenario.workload.poll_wait_s,
        payment_latency=sim.payment_latency or scenario.payment_provider.latency,
        decline_rate=scenario.payment_provider.decline_rate,
        lock_keys=scenario.dataset.hotels * scenario.dataset.room_types_per_hotel,
        workers=spec.workers or scenario.replicas.monolith_workers, replicas=dict(sim.replicas),
        hosts=sim.hosts, cores_per_host=sim.cores_per_host,
        generator_on_host=sim.generator_on_host, generator_cores=sim.generator_cores,
        hop_s=hop, broker_persist_s=persist,
        db_commit_s=cal.db_commit_s, duration_s=sim.duration_s, warmup_s=sim.warmup_s, seed=seed,
    )


@dataclass
class Outcome:
    """One simulation's measurements, in the units a real run reports (seconds, CPU-seconds)."""

    architecture: str
    level: float
    seed: int
    measured_s: float
    latencies: dict[str, np.ndarray]
    cpu_s: dict[str, float]  # per component, background included
    visits: dict[str, int]  # per component
    read_lag: np.ndarray
    events: int
    wall_s: float
    requests: int  # requests simulated, warm-up included (polls not counted)
    offered: int  # requests started in the measured period

    @property
    def throughput(self) -> float:
        done = sum(len(v) for op, v in self.latencies.items() if op != "book_e2e")
        return done / self.measured_s

    def quantile_ms(self, operation: str, q: float) -> float:
        values = self.latencies.get(operation)
        if values is None or len(values) == 0:
            return math.nan
        return float(np.quantile(values, q) * 1e3)


def latency_sampler(spec: str, rng: random.Random) -> Callable[[], float]:
    kind, _, params = spec.partition(":")
    numbers = [float(p) for p in params.split(",") if p]
    if kind == "none":
        return lambda: 0.0
    if kind == "fixed":
        value = numbers[0]
        return lambda: value
    if kind == "exponential":
        rate = 1.0 / numbers[0] if numbers[0] > 0 else math.inf
        return (lambda: 0.0) if math.isinf(rate) else (lambda: rng.expovariate(rate))
    if kind == "lognormal":
        if numbers[0] <= 0:
            return lambda: 0.0
        mu, sigma = math.log(numbers[0]), numbers[1]
        return lambda: rng.lognormvariate(mu, sigma)
    raise ValueError(f"unknown latency distribution {spec!r}")


class Burst:
    """Draws CPU bursts of one component: mean `n * demand`, coefficient of variation cv/√n."""

    __slots__ = ("_rng", "cv", "mean", "one")

    def __init__(self, component: Component, rng: random.Random) -> None:
        self.mean = component.demand_s
        self.cv = component.cv
        self._rng = rng
        mean, cv = self.mean, self.cv
        if mean <= 0 or cv == 0:
            self.one: Callable[[], float] = lambda: mean
        elif cv == 1:
            rate = 1.0 / mean
            self.one = lambda: rng.expovariate(rate)
        else:
            shape, scale = 1 / cv**2, mean * cv**2
            self.one = lambda: rng.gammavariate(shape, scale)

    def __call__(self, n: int = 1) -> float:
        if n == 1:
            return self.one()
        mean = self.mean * n
        if mean <= 0 or self.cv == 0:
            return mean
        shape = n / self.cv**2
        return self._rng.gammavariate(shape, mean / shape)


class Booking:
    __slots__ = ("declined", "key", "settled", "visible")

    def __init__(self, declined: bool, key: int) -> None:
        self.declined = declined
        self.key = key
        self.visible = False  # the query side shows a terminal status
        self.settled: simpy.Event | None = None  # what a waiting read (long poll) waits on


class Message:
    __slots__ = ("booking", "occurred", "type")

    def __init__(self, type_: str, booking: Booking, occurred: float) -> None:
        self.type = type_
        self.booking = booking
        self.occurred = occurred


class System:
    """Hosts, processes and the load; subclasses add each architecture's request paths."""

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.env = simpy.Environment()
        self.rng = random.Random(settings.seed)
        self.measure_from = settings.warmup_s
        self.end = settings.warmup_s + settings.duration_s
        self.latencies: dict[str, list[float]] = {op: [] for op in (*OPERATIONS, "book_e2e")}
        self.read_lag: list[float] = []
        self.requests = 0
        self.offered = 0
        params = settings.params.components
        self.burst = {name: Burst(params[name], self.rng) for name in COMPONENTS[settings.system]}
        self.hosts, self.procs = self._place(params)
        for procs in self.procs.values():
            for proc in procs:
                proc.measure_from = self.measure_from
        self.hop = settings.hop_s
        self.pg, self.pg_burst = self.procs["postgres"][0], self.burst["postgres"]
        self.provider = self.procs["payment_provider"][0]
        self.generator, self.caddy = self.procs["generator"][0], self.procs["caddy"][0]
        self.payment_latency = latency_sampler(settings.payment_latency, self.rng)
        self.locks: dict[int, Tokens] = {}
        self.pools = {p: Tokens(self.env, POOL_SIZE * p.threads)
                      for name, procs in self.procs.items() if name not in ("postgres", "nats",
                                                                             "caddy", "generator",
                                                                             "payment_provider")
                      for p in procs}
        self._next_replica: dict[str, int] = {}
        residual = settings.params.residual
        self.residual = {op: self._residual_sampler(residual(op).median_s, residual(op).sigma)
                         for op in (*OPERATIONS, "book_e2e")}
        ops = list(settings.weights)
        total = sum(settings.weights.values())
        self._ops = ops
        self._cumulative = list(np.cumsum([settings.weights[o] / total for o in ops]))

    # topology -------------------------------------------------------------------------------

    def _place(self, params: dict[str, Component]) -> tuple[list[Host], dict[str, list[Proc]]]:
        s = self.s
        order: list[str] = []
        for name in PLACEMENT_ORDER[s.system]:
            order += [name] * (s.replicas.get(name, 1) if name in (*SERVICES, "monolith") else 1)
        host_of = [i % s.hosts for i in range(len(order))]
        background = [0.0] * s.hosts
        for name, h in zip(order, host_of, strict=True):
            background[h] += params[name].background_cores
        generator_host = 0 if s.generator_on_host else None
        if generator_host is not None:
            background[0] += params["generator"].background_cores
        # background CPU is taken off the host's cores: it competes with every burst alike
        hosts = [Host(self.env, f"h{i}", max(s.cores_per_host - background[i], 0.05 * s.cores_per_host))
                 for i in range(s.hosts)]
        gen_host = hosts[0] if s.generator_on_host else Host(self.env, "client",
                                                             s.generator_cores or 64)
        procs: dict[str, list[Proc]] = {"generator": [Proc(self.env, "generator", gen_host, 1)]}
        for name, h in zip(order, host_of, strict=True):
            host = hosts[h]
            threads = {"postgres": PG_CONNECTIONS, "caddy": max(1, math.ceil(s.cores_per_host)),
                       "nats": max(1, math.ceil(s.cores_per_host)),
                       "monolith": s.workers}.get(name, 1)
            procs.setdefault(name, []).append(Proc(self.env, name, host, threads))
        return hosts, procs

    def replica(self, name: str) -> Proc:
        procs = self.procs[name]
        if len(procs) == 1:
            return procs[0]
        i = self._next_replica.get(name, 0)
        self._next_replica[name] = i + 1
        return procs[i % len(procs)]

    def _residual_sampler(self, median: float, sigma: float) -> Callable[[], float] | None:
        if median <= 0:
            return None
        if sigma <= 0:
            return lambda: median
        mu = math.log(median)
        rng = self.rng
        return lambda: rng.lognormvariate(mu, sigma)

    # shared request pieces ----------------------------------------------------------------------

    def transaction(self, app: Proc, n: int, *, lock_key: int | None = None, app_visits: int = 0,
                    commit: bool = True, lead_s: float = 0.0, app_cpu: bool = True) -> Iterator[Event]:
        """`n` SQL round trips from `app` on a pooled connection: the hops there and back, the
        backend's CPU, the WAL flush at commit, then the app's CPU for its `app_visits` plus the
        client side of the `n` statements (one burst each: the order inside a transaction does
        not change the queueing). `lock_key` holds a row lock for the whole transaction;
        `lead_s` is a delay already owed (a hop) folded into the same timer; `app_cpu=False` when
        the caller already counted the client side in an earlier burst."""
        env = self.env
        pool = self.pools[app]
        wait = pool.take()
        if wait is not None:
            yield wait
        lock = None
        if lock_key is not None:
            lock = self.locks.get(lock_key)
            if lock is None:
                lock = self.locks[lock_key] = Tokens(env, 1)
            wait = lock.take()
            if wait is not None:
                yield wait
        yield self.pg.cpu(self.pg_burst(n), "statement", n,
                          lead=lead_s + n * 2 * self.hop + (self.s.db_commit_s if commit else 0.0))
        if lock is not None:
            lock.give()
        pool.give()
        if app_cpu:
            yield app.cpu(self.burst[app.name](n + app_visits), "work", n + app_visits)

    def provider_call(self, lead: float = 0.0) -> Iterator[Event]:
        """The payment provider: hop, its CPU, its latency, hop back (the caller's CPU for the
        answer is one `app_visits` of its next transaction)."""
        yield self.provider.cpu(self.burst["payment_provider"](), "request", lead=lead + self.hop)
        yield self.env.timeout(self.payment_latency() + self.hop)

    def http(self, lead: float = 0.0) -> Iterator[Event]:
        """Client → Caddy → app; the app's CPU for the request is an `app_visits` of its work,
        and the hop from Caddy to the app is the caller's `lead_s`."""
        yield self.generator.cpu(self.burst["generator"](), "request", lead=lead)
        yield self.caddy.cpu(self.burst["caddy"](), "request", lead=self.hop)

    def finish(self, operation: str, start: float) -> Iterator[Event]:
        """App → Caddy → client, plus the operation's residual latency."""
        extra = self.residual[operation]
        yield self.env.timeout(2 * self.hop + (extra() if extra is not None else 0.0))
        self.record(operation, start)

    def new_booking(self) -> Booking:
        return Booking(self.rng.random() < self.s.decline_rate, self.rng.randrange(self.s.lock_keys))

    def record(self, operation: str, start: float) -> None:
        if start >= self.measure_from:
            self.latencies[operation].append(self.env.now - start)

    # load -------------------------------------------------------------------------------------

    def pick(self) -> str:
        return self._ops[bisect.bisect_left(self._cumulative, self.rng.random())]

    def request(self, operation: str) -> Generator[Event, Any, None]:
        raise NotImplementedError

    def _open(self) -> Iterator[Event]:
        env, s, rng = self.env, self.s, self.rng
        slots = Tokens(env, s.max_concurrency)
        rate = s.level
        while True:
            gap = rng.expovariate(rate) if s.arrival == "poisson" else 1.0 / rate
            yield env.timeout(gap)
            env.process(self._one(self.pick(), env.now, slots))

    def _one(self, operation: str, start: float, slots: Tokens) -> Iterator[Event]:
        self.requests += 1
        if start >= self.measure_from:
            self.offered += 1
        wait = slots.take()
        if wait is not None:
            yield wait
        yield from self.request_at(operation, start)
        slots.give()

    def _user(self) -> Iterator[Event]:
        env, rng = self.env, self.rng
        low, high = self.s.think_time_s
        yield env.timeout(rng.uniform(0, high))  # users start spread over one think time
        while True:
            start = env.now
            self.requests += 1
            if start >= self.measure_from:
                self.offered += 1
            yield from self.request_at(self.pick(), start)
            yield env.timeout(rng.uniform(low, high))

    def request_at(self, operation: str, start: float) -> Iterator[Event]:
        raise NotImplementedError

    def run(self) -> Outcome:
        began = time.perf_counter()
        env = self.env
        if self.s.model == "open":
            env.process(self._open())
        else:
            for _ in range(int(self.s.level)):
                env.process(self._user())
        self.start_background()
        env.run(until=self.end)
        measured = self.s.duration_s
        cpu = {}
        visits = {}
        params = self.s.params.components
        for name, procs in self.procs.items():
            background = params[name].background_cores * measured * (len(procs) if name != "generator" else 1)
            cpu[name] = sum(p.busy_s for p in procs) + background
            visits[name] = sum(sum(p.visits.values()) for p in procs)
        return Outcome(
            architecture=self.s.architecture, level=self.s.level, seed=self.s.seed, measured_s=measured,
            latencies={op: np.asarray(v) for op, v in self.latencies.items()},
            cpu_s=cpu, visits=visits, read_lag=np.asarray(self.read_lag),
            events=scheduled_events(env), wall_s=time.perf_counter() - began,
            requests=self.requests, offered=self.offered,
        )

    def start_background(self) -> None:
        """Processes that run without requests (relays, consumer loops)."""


class Monolith(System):
    def request_at(self, operation: str, start: float) -> Iterator[Event]:
        app = self.replica("monolith")
        yield from self.http()
        if operation == "book":
            booking = self.new_booking()
            yield from self.transaction(app, MONOLITH_HOLD_TX, lock_key=booking.key, app_visits=1,
                                        lead_s=self.hop)
            yield from self.provider_call()
            yield from self.transaction(app, MONOLITH_SETTLE_TX, app_visits=1,
                                        lock_key=booking.key if booking.declined else None)
            yield from self.finish("book", start)
            self.record("book_e2e", start)
        elif operation == "cancel":
            yield from self.transaction(app, MONOLITH_CANCEL_TX, app_visits=1, lead_s=self.hop)
            yield from self.provider_call()
            yield from self.transaction(app, MONOLITH_REFUND, app_visits=1)
            yield from self.finish(operation, start)
        else:
            yield from self.transaction(app, MONOLITH_READS[operation], app_visits=1, commit=False,
                                        lead_s=self.hop)
            yield from self.finish(operation, start)


class Consumer:
    """A durable pull consumer of one service on one producer's stream."""

    def __init__(self, system: Microservices, service: str, types: tuple[str, ...],
                 concurrency: int) -> None:
        self.system = system
        self.service = service
        self.types = types
        self.queue: deque[Message] = deque()
        self.idle: deque[Event] = deque()
        replicas = system.procs[service]
        self.batch = concurrency == 0
        loops = 1 if self.batch else concurrency * len(replicas)
        self.loops = [replicas[i % len(replicas)] for i in range(loops)]

    def offer(self, message: Message) -> None:
        if self.idle:
            self.idle.popleft().succeed(message)
        else:
            self.queue.append(message)

    def loop(self, proc: Proc) -> Iterator[Event]:
        system = self.system
        env, nats, nats_burst = system.env, system.procs["nats"][0], system.burst["nats"]
        handle = system.handler
        while True:
            if self.queue:
                message = self.queue.popleft()
            else:
                waiter = Event(env)
                self.idle.append(waiter)
                message = yield waiter
            if self.batch:
                batch = [message]
                while self.queue and len(batch) < PROJECTION_BATCH:
                    batch.append(self.queue.popleft())
                yield from system.project(proc, batch)
            else:
                batch = [message]
                yield from handle(self.service, proc, message)
            # the broker's work for each message (deliver, ack; pulls are amortised) as one burst
            yield nats.cpu(nats_burst(2 * len(batch)), "deliver+ack", 2 * len(batch),
                           lead=system.hop)


class Relay:
    """One service process's outbox relay: publishes what its transactions committed, in order."""

    def __init__(self, system: Microservices, proc: Proc) -> None:
        self.system = system
        self.proc = proc
        self.outbox: list[Message] = []
        self.sleeping: Event | None = None
        self.deleted_at = -RELAY_DELETE_EVERY_S

    def add(self, message: Message) -> None:
        self.outbox.append(message)
        if self.sleeping is not None:
            sleeping, self.sleeping = self.sleeping, None
            sleeping.succeed()

    def run(self) -> Iterator[Event]:
        system, proc = self.system, self.proc
        env, nats, nats_burst = system.env, system.procs["nats"][0], system.burst["nats"]
        while True:
            if not self.outbox:
                self.sleeping = Event(env)
                yield self.sleeping
            batch, self.outbox = self.outbox[:RELAY_BATCH], self.outbox[RELAY_BATCH:]
            # published from memory: the app's CPU per message, no query
            yield proc.cpu(system.burst[proc.name](len(batch)), "work", len(batch))
            lead = system.hop
            for _ in batch:
                yield nats.cpu(nats_burst(), "store", lead=lead)
                lead = 0.0
            if system.persist > 0:
                yield env.timeout(system.persist)
            for message in batch:
                system.dispatch(message)
            if env.now - self.deleted_at >= RELAY_DELETE_EVERY_S:
                self.deleted_at = env.now
                yield from system.transaction(proc, 1, lead_s=system.hop)


class Microservices(System):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.persist = settings.broker_persist_s
        self.relays = {id(p): Relay(self, p) for name in SERVICES for p in self.procs[name]}
        self.subscribers: dict[str, list[Consumer]] = {}
        self.consumers = []
        for service, _producer, types, concurrency in CONSUMERS:
            consumer = Consumer(self, service, types, concurrency)
            self.consumers.append(consumer)
            for t in types:
                self.subscribers.setdefault(t, []).append(consumer)

    def start_background(self) -> None:
        env = self.env
        for relay in self.relays.values():
            env.process(relay.run())
        for consumer in self.consumers:
            for proc in consumer.loops:
                env.process(consumer.loop(proc))

    def dispatch(self, message: Message) -> None:
        for consumer in self.subscribers.get(message.type, ()):
            consumer.offer(message)

    def emit(self, proc: Proc, type_: str, booking: Booking) -> None:
        self.relays[id(proc)].add(Message(type_, booking, self.env.now))

    def request_at(self, operation: str, start: float) -> Iterator[Event]:
        yield from self.http()
        if operation in ("book", "cancel"):
            app = self.replica("booking")
            booking = self.new_booking()
            yield from self.transaction(app, COMMAND_TX, app_visits=1, lead_s=self.hop)
            self.emit(app, "BookingRequested" if operation == "book" else "BookingCancelled", booking)
            yield from self.finish(operation, start)
            if operation == "book":
                yield from self.await_terminal(booking, start)
            return
        yield from self.transaction(self.replica("query"), 1, app_visits=1, commit=False,
                                    lead_s=self.hop)
        yield from self.finish(operation, start)

    def await_terminal(self, booking: Booking, start: float) -> Iterator[Event]:
        """The client polls GET /bookings/{id} until the query side shows a terminal status;
        with `poll_wait_s` the read is held by the query service until the booking settles
        (RFC 7240 Prefer: wait), then read again and answered."""
        poll, hop = self.s.poll_interval_s, self.hop
        if self.s.poll_wait_s:
            while True:
                yield from self.http(lead=0.0)
                yield from self.transaction(self.replica("query"), 1, app_visits=1, commit=False,
                                            lead_s=hop)
                if booking.visible:
                    break
                if booking.settled is None:
                    booking.settled = self.env.event()
                yield booking.settled | self.env.timeout(self.s.poll_wait_s)
                if booking.visible:
                    yield from self.transaction(self.replica("query"), 1, app_visits=1,
                                                commit=False)
                    yield self.env.timeout(2 * hop)  # the answer's way back
                    break
            yield from self.finish("book_e2e", start)
            return
        wait = poll
        while True:
            yield from self.http(lead=wait)
            yield from self.transaction(self.replica("query"), 1, app_visits=1, commit=False,
                                        lead_s=hop)
            if booking.visible:
                break
            wait = 2 * hop + poll  # the answer's way back, then the client's pause
        yield from self.finish("book_e2e", start)

    def project(self, proc: Proc, batch: list[Message]) -> Iterator[Event]:
        """The query service applies what has arrived in one transaction, in order."""
        yield from self.transaction(proc, PROJECTION_TX + len(batch), app_visits=len(batch),
                                    lead_s=self.hop)
        for message in batch:
            if message.occurred >= self.measure_from:
                self.read_lag.append(self.env.now - message.occurred)
            booking = message.booking
            if message.type in TERMINAL:
                booking.visible = True
                if booking.settled is not None and not booking.settled.triggered:
                    booking.settled.succeed()

    def handler(self, service: str, proc: Proc, message: Message) -> Iterator[Event]:
        """One delivered message: the hop from the broker rides on the transaction's timer."""
        kind, booking, hop = message.type, message.booking, self.hop
        if service == "inventory":
            yield from self.transaction(proc, HANDLER_TX + 2, lock_key=booking.key, app_visits=1,
                                        lead_s=hop)
            self.emit(proc, "InventoryReserved" if kind == "BookingRequested" else "InventoryReleased",
                      booking)
        elif service == "payment":
            yield from self.provider_call(lead=hop)
            yield from self.transaction(proc, HANDLER_TX + 1, app_visits=2)
            if kind == "BookingCancelled":
                self.emit(proc, "PaymentRefunded", booking)
            else:
                self.emit(proc, "PaymentDeclined" if booking.declined else "PaymentAuthorized", booking)
        elif service == "booking":
            yield from self.transaction(proc, HANDLER_TX + 2, app_visits=1, lead_s=hop)
            self.emit(proc, "BookingConfirmed" if kind == "PaymentAuthorized" else "BookingRejected",
                      booking)
        elif service == "notification":
            yield from self.transaction(proc, HANDLER_TX + 1, app_visits=1, lead_s=hop)
            self.emit(proc, "NotificationSent", booking)


MODELS: dict[str, type[System]] = {"monolith": Monolith, "microservices": Microservices}


def simulate(settings: Settings) -> Outcome:
    if settings.system not in MODELS:
        raise ValueError(f"{settings.architecture}: no simulation model {settings.system!r}; "
                         f"known: {', '.join(MODELS)}")
    return MODELS[settings.system](settings).run()

