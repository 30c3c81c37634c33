"""Closed-form queueing results the simulation engine is checked against: M/M/1 and M/M/c (Erlang C)
mean waiting times, and exact mean value analysis (MVA) of a closed product-form network.

Rates are per second, times in seconds. Waiting time is the time in queue before service starts (Wq);
a station's demand is the total service it gives one request per cycle (visits x service time).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

QUEUE = "queue"
DELAY = "delay"


def _check_rates(arrival_rate: float, service_rate: float) -> None:
    if not (math.isfinite(arrival_rate) and math.isfinite(service_rate)):
        raise ValueError("rates must be finite")
    if arrival_rate < 0 or service_rate <= 0:
        raise ValueError("need arrival_rate >= 0 and service_rate > 0")


def mm1_wait(arrival_rate: float, service_rate: float) -> float:
    """Mean waiting time in queue of an M/M/1 station: Wq = rho / (mu - lambda)."""
    _check_rates(arrival_rate, service_rate)
    if arrival_rate >= service_rate:
        raise ValueError(f"unstable: arrival rate {arrival_rate} >= service rate {service_rate}")
    return arrival_rate / service_rate / (service_rate - arrival_rate)


def erlang_b(servers: int, offered_load: float) -> float:
    """Blocking probability of an M/M/c/c loss system with offered load a = lambda / mu (Erlangs).

    Uses the recursion B(k) = a B(k-1) / (k + a B(k-1)), which stays within [0, 1] and so neither
    overflows nor cancels for hundreds of servers, unlike the factorial sum.
    """
    if isinstance(servers, bool) or not isinstance(servers, int) or servers < 1:
        raise ValueError("servers must be a positive integer")
    if not math.isfinite(offered_load) or offered_load < 0:
        raise ValueError("offered load must be finite and >= 0")
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
    return blocking


def erlang_c(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Probability that an arrival to an M/M/c station has to wait (all `servers` busy)."""
    _check_rates(arrival_rate, service_rate)
    load = arrival_rate / service_rate
    if load >= servers:
        raise ValueError(f"unstable: offered load {load} >= {servers} servers")
    blocking = erlang_b(servers, load)
    return servers * blocking / (servers - load * (1.0 - blocking))


def mmc_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean waiting time in queue of an M/M/c station: Wq = C(c, a) / (c mu - lambda)."""
    waiting = erlang_c(servers, arrival_rate, service_rate)
    return waiting / (servers * service_rate - arrival_rate)


@dataclass(frozen=True)
class MvaResult:
    """Steady state of a closed network with `users` circulating requests.

    `response_time` is the time a request spends at the stations per cycle (the think time excluded);
    `residence_times[k]` its share at station k, `queue_lengths[k]` the mean number there.
    """

    users: int
    throughput: float
    response_time: float
    residence_times: tuple[float, ...]
    queue_lengths: tuple[float, ...]

    def utilisation(self, demands: Sequence[float]) -> tuple[float, ...]:
        """Per-station utilisation X * D_k (for a delay station: its mean number of requests)."""
        return tuple(self.throughput * demand for demand in demands)


def mva(
    demands: Sequence[float], users: int, think_time: float, kinds: Sequence[str] | None = None
) -> MvaResult:
    """Exact mean value analysis (Reiser and Lavenberg) of a closed single-class network.

    Stations are single-server FCFS queues with exponential service (or processor sharing, with any
    service distribution), kind "queue", or infinite-server delays, kind "delay"; all are "queue" when
    `kinds` is None. `think_time` is the users' mean think time Z between cycles. For n = 1..users:
    R_k(n) = D_k (1 + Q_k(n - 1)) at a queue and D_k at a delay, X(n) = n / (Z + sum R_k(n)),
    Q_k(n) = X(n) R_k(n).
    """
    stations = [float(demand) for demand in demands]
    kinds = [QUEUE] * len(stations) if kinds is None else list(kinds)
    if not stations:
        raise ValueError("a network needs at least one station")
    if len(kinds) != len(stations):
        raise ValueError(f"{len(kinds)} kinds for {len(stations)} stations")
    if unknown := sorted(set(kinds) - {QUEUE, DELAY}):
        raise ValueError(f"unknown station kinds {unknown}: use {QUEUE!r} or {DELAY!r}")
    if any(not math.isfinite(demand) or demand < 0 for demand in stations):
        raise ValueError("demands must be finite and >= 0")
    if isinstance(users, bool) or not isinstance(users, int) or users < 1:
        raise ValueError("users must be a positive integer")
    if not math.isfinite(think_time) or think_time < 0:
        raise ValueError("think time must be finite and >= 0")
    if think_time == 0 and not any(stations):
        raise ValueError("a cycle with no demand and no think time has infinite throughput")

    queued = [kind == QUEUE for kind in kinds]
    lengths = [0.0] * len(stations)
    residence = list(stations)
    throughput = 0.0
    for population in range(1, users + 1):
        residence = [
            demand * (1.0 + length) if queue else demand
            for demand, length, queue in zip(stations, lengths, queued, strict=True)
        ]
        throughput = population / (think_time + sum(residence))
        lengths = [throughput * time for time in residence]
    return MvaResult(
        users=users,
        throughput=throughput,
        response_time=sum(residence),
        residence_times=tuple(residence),
        queue_lengths=tuple(lengths),
    )
