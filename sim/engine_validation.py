"""The engine checked against queueing theory: simulated M/M/1 and M/M/c mean waiting times, M/M/1-PS and
M/M/c-PS mean response times, and a closed network's throughput and response time must fall inside the
95% confidence interval of independent replications around the analytic value (sim.analytic).

Scenarios, times in seconds and rates per second:
- open station: Poisson arrivals at `arrival_rate`, exponential service at `service_rate`, served by a
  Proc with `servers` threads on a Host with as many cores, so a started burst runs at full speed and
  its wait is its response time minus its own demand. The first `warmup` customers are discarded.
- processor-sharing station: the same arrivals and demands, but the Proc has `PS_THREADS` threads (in
  effect unlimited) on a Host with `cores` cores, so every customer starts at once and the host shares
  its cores among all of them; more jobs than cores slow everyone down, and each arrival makes the
  armed completion timer fire early and re-arm. The metric is the response time (sojourn).
  M/M/1-PS has the mean sojourn of M/M/1, 1 / (mu - lambda). With exponential demands the number in an
  M/M/c-PS station is the birth-death chain of M/M/c (departure rate min(n, c) mu), so by Little's law
  its mean sojourn is that of M/M/c FCFS, Wq + 1 / mu.
- closed network: `users` requests cycle through an exponential think time of mean `think_time` and
  the stations in order, each a one-thread Proc on its own one-core Host with exponential service of
  mean `demands[k]`. Only cycles ending after `warmup_s` count, over `duration_s` after it.

Each replication draws from its own random.Random, seeded from the master seed, so a table is
reproducible; replications may run in worker processes without changing a number.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from functools import partial
from statistics import fmean
from typing import TypeVar

import simpy
from simpy.core import Environment
from simpy.events import Event

from sim.analytic import mm1_wait, mmc_wait, mva
from sim.engine import Host, Proc
from sim.parallel import parallel_map
from sim.stats import Estimate, estimate

T = TypeVar("T")
SimProcess = Generator[Event, object, None]

SEED = 20240611



def replication_seeds(replications: int, seed: int) -> list[int]:
    """Distinct per-replication seeds drawn from the master `seed`."""
    master = random.Random(seed)
    return [master.getrandbits(64) for _ in range(replications)]


def run_replications(fn: Callable[[int], T], replications: int, seed: int, workers: int = 1) -> list[T]:
    """`fn(seed_i)` for each replication, in order; in up to `workers` processes (capped at the CPUs).

    `fn` must be picklable when workers > 1 (a module-level function or a partial of one).
    """
    if replications < 1:
        raise ValueError("need at least one replication")
    seeds = replication_seeds(replications, seed)
    return parallel_map(fn, seeds, max(1, min(workers, os.cpu_count() or 1)))


def replicate(fn: Callable[[int], float], replications: int, seed: int, workers: int = 1) -> Estimate:
    """Run `fn(seed_i)` for `replications` derived seeds and estimate its mean with a 95% interval."""
    return estimate(run_replications(fn, replications, seed, workers))


# --- open station (M/M/c) ---------------------------------------------------------------------------


class ServerPool:
    """An open station: one process with `threads` threads on a host with `cores` cores."""

    def __init__(self, env: Environment, cores: int, threads: int) -> None:
        self.env = env
        self.host = Host(env, "host", cores=cores)
        self.proc = Proc(env, "servers", self.host, threads=threads)


def customer(
    env: Environment, pool: ServerPool, demand: float, counted: bool, times: list[tuple[float, float]]
) -> SimProcess:
    """One burst; a measured customer records (response time, own demand)."""
    arrived = env.now
    yield pool.proc.cpu(demand)
    if counted:
        times.append((env.now - arrived, demand))


def setup(
    env: Environment,
    pool: ServerPool,
    rng: random.Random,
    arrival_rate: float,
    service_rate: float,
    customers: int,
    warmup: int,
    times: list[tuple[float, float]],
) -> SimProcess:
    """Poisson arrivals: `customers` in all, the first `warmup` of them not measured."""
    for index in range(customers):
        yield env.timeout(rng.expovariate(arrival_rate))
        demand = rng.expovariate(service_rate)
        env.process(customer(env, pool, demand, index >= warmup, times))


def open_station_times(
    cores: int,
    threads: int,
    arrival_rate: float,
    service_rate: float,
    customers: int,
    warmup: int,
    seed: int,
) -> list[tuple[float, float]]:
    """(response time, demand) of each measured customer of one simulated open-station run."""
    if not 0 <= warmup < customers:
        raise ValueError("need 0 <= warmup < customers")
    env = simpy.Environment()
    pool = ServerPool(env, cores, threads)
    times: list[tuple[float, float]] = []
    env.process(setup(env, pool, random.Random(seed), arrival_rate, service_rate, customers, warmup, times))
    env.run()
    return times


def mmc_waiting_time(
    servers: int, arrival_rate: float, service_rate: float, customers: int, warmup: int, seed: int
) -> float:
    """Mean waiting time in queue of the measured customers of one simulated M/M/c run."""
    times = open_station_times(servers, servers, arrival_rate, service_rate, customers, warmup, seed)
    return fmean(response - demand for response, demand in times)


PS_THREADS = 10_000  # threads of a processor-sharing station: never the limit at the loads simulated


def ps_response_time(
    cores: int, arrival_rate: float, service_rate: float, customers: int, warmup: int, seed: int
) -> float:
    """Mean response time of the measured customers of one simulated M/M/c-PS run (`cores` = c)."""
    times = open_station_times(cores, PS_THREADS, arrival_rate, service_rate, customers, warmup, seed)
    return fmean(response for response, _ in times)


# --- closed network ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CycleStats:
    """One closed-network run: cycles completed per second and their mean time at the stations."""

    throughput: float
    response_time: float
    cycles: int


class ClosedNetwork:
    """Stations visited in order, each one thread on its own one-core host."""

    def __init__(self, env: Environment, stations: int) -> None:
        self.env = env
        self.stations = [Proc(env, f"station{k}", Host(env, f"host{k}", cores=1)) for k in range(stations)]


def user(
    env: Environment,
    network: ClosedNetwork,
    rng: random.Random,
    demands: Sequence[float],
    think_time: float,
    warmup_s: float,
    responses: list[float],
) -> SimProcess:
    """Think, then one burst at every station; cycles ending after the warm-up are recorded."""
    while True:
        if think_time > 0:
            yield env.timeout(rng.expovariate(1.0 / think_time))
        started = env.now
        for station, demand in zip(network.stations, demands, strict=True):
            yield station.cpu(rng.expovariate(1.0 / demand) if demand > 0 else 0.0)
        if env.now >= warmup_s:
            responses.append(env.now - started)


def closed_network_cycle(
    demands: Sequence[float], users: int, think_time: float, duration_s: float, warmup_s: float, seed: int
) -> CycleStats:
    """Throughput and mean response time per cycle over `duration_s` after a `warmup_s` warm-up.

    Cycles are selected by their end time, so the mean is that of a stationary sequence: no bias from
    the cycles still running when the window closes.
    """
    if duration_s <= 0 or warmup_s < 0:
        raise ValueError("need duration_s > 0 and warmup_s >= 0")
    env = simpy.Environment()
    network = ClosedNetwork(env, len(demands))
    rng = random.Random(seed)
    responses: list[float] = []
    for _ in range(users):
        env.process(user(env, network, rng, demands, think_time, warmup_s, responses))
    env.run(until=warmup_s + duration_s)
    return CycleStats(len(responses) / duration_s, fmean(responses), len(responses))


# --- the validation cases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenCase:
    """An M/M/c station (M/M/1 when servers == 1)."""

    name: str
    servers: int
    arrival_rate: float
    service_rate: float
    customers: int
    warmup: int

    def analytic(self) -> dict[str, float]:
        if self.servers == 1:
            return {"mean_wait_s": mm1_wait(self.arrival_rate, self.service_rate)}
        return {"mean_wait_s": mmc_wait(self.servers, self.arrival_rate, self.service_rate)}

    def simulate(self, seed: int) -> dict[str, float]:
        wait = mmc_waiting_time(
            self.servers, self.arrival_rate, self.service_rate, self.customers, self.warmup, seed
        )
        return {"mean_wait_s": wait}


@dataclass(frozen=True)
class SharedCase:
    """An M/M/c-PS station (M/M/1-PS when cores == 1): every customer in service at once, sharing
    `cores` processors equally."""

    name: str
    cores: int
    arrival_rate: float
    service_rate: float
    customers: int
    warmup: int

    def analytic(self) -> dict[str, float]:
        if self.cores == 1:
            return {"mean_response_s": 1.0 / (self.service_rate - self.arrival_rate)}
        wait = mmc_wait(self.cores, self.arrival_rate, self.service_rate)
        return {"mean_response_s": wait + 1.0 / self.service_rate}

    def simulate(self, seed: int) -> dict[str, float]:
        response = ps_response_time(
            self.cores, self.arrival_rate, self.service_rate, self.customers, self.warmup, seed
        )
        return {"mean_response_s": response}


@dataclass(frozen=True)
class ClosedCase:
    """A closed network of single-thread stations with think time, against exact MVA."""

    name: str
    demands: tuple[float, ...]
    users: int
    think_time: float
    duration_s: float
    warmup_s: float

    def analytic(self) -> dict[str, float]:
        result = mva(self.demands, self.users, self.think_time)
        return {"throughput_per_s": result.throughput, "response_time_s": result.response_time}

    def simulate(self, seed: int) -> dict[str, float]:
        stats = closed_network_cycle(
            self.demands, self.users, self.think_time, self.duration_s, self.warmup_s, seed
        )
        return {"throughput_per_s": stats.throughput, "response_time_s": stats.response_time}


Case = OpenCase | SharedCase | ClosedCase

_CLOSED_DEMANDS = (0.25, 0.15, 0.10)  # seconds per cycle at each station; 0.25 s is the bottleneck

CASES: tuple[Case, ...] = (
    OpenCase("M/M/1 rho=0.5", servers=1, arrival_rate=0.5, service_rate=1.0, customers=6_000, warmup=500),
    OpenCase("M/M/1 rho=0.8", servers=1, arrival_rate=0.8, service_rate=1.0, customers=40_000, warmup=2_000),
    OpenCase("M/M/2 rho=0.7", servers=2, arrival_rate=1.4, service_rate=1.0, customers=15_000, warmup=1_000),
    OpenCase("M/M/8 rho=0.7", servers=8, arrival_rate=5.6, service_rate=1.0, customers=30_000, warmup=2_000),
    SharedCase("M/M/1-PS rho=0.7", cores=1, arrival_rate=0.7, service_rate=1.0, customers=20_000,
               warmup=1_000),
    SharedCase("M/M/2-PS rho=0.7", cores=2, arrival_rate=1.4, service_rate=1.0, customers=20_000,
               warmup=1_000),
    ClosedCase("closed 3 stations N=5", _CLOSED_DEMANDS, users=5, think_time=1.0, duration_s=3_000.0,
               warmup_s=100.0),
    ClosedCase("closed 3 stations N=20", _CLOSED_DEMANDS, users=20, think_time=1.0, duration_s=1_500.0,
               warmup_s=100.0),
)


def _simulate(case: Case, seed: int) -> dict[str, float]:
    return case.simulate(seed)


def run_case(
    case: Case, replications: int = 10, seed: int = SEED, workers: int = 1
) -> list[dict[str, object]]:
    """One row per metric: analytic value, simulated mean, 95% half-width, and whether it is inside."""
    results = run_replications(partial(_simulate, case), replications, seed, workers)
    rows: list[dict[str, object]] = []
    for metric, analytic in case.analytic().items():
        simulated = estimate([result[metric] for result in results])
        rows.append({
            "case": case.name,
            "metric": metric,
            "analytic": analytic,
            "simulated": simulated.mean,
            "ci_half_width": simulated.half_width,
            "inside_ci": simulated.contains(analytic),
        })
    return rows


def validation_table(replications: int = 10, seed: int = SEED, workers: int = 1) -> list[dict[str, object]]:
    """Every case in CASES against its analytic value, `replications` runs each."""
    return [row for case in CASES for row in run_case(case, replications, seed, workers)]
