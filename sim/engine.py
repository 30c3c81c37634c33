"""Queueing-network building blocks on SimPy: hosts whose cores every process placed on them shares
(processor sharing), processes with a fixed number of threads, FIFO token pools (connection pools,
row locks) and pure delays (network, broker persistence, payment provider).

Parameters are in seconds. Everything completes through plain SimPy events, scheduled with as few
events as possible: the models simulate millions of requests, so one event per CPU burst (plus
one timer per change of the sharing rate) is the budget.

    host = Host(env, "h0", cores=2)
    app = Proc(env, "monolith", host, threads=2)
    yield app.cpu(0.001)          # 1 ms of CPU, slower when the host is contended
    yield env.timeout(hop_s)      # a network hop is its own delay component
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable
from itertools import count
from typing import Any

import simpy
from simpy.core import Environment
from simpy.events import Event


class Host:
    """`cores` processors shared equally by the jobs in service (egalitarian processor sharing):
    with n jobs each progresses at min(1, cores / n) seconds of work per second.

    Implemented with a virtual clock: `_virtual` is the work every job in service has received
    since the epoch, so a job finishes when the clock reaches its arrival value plus its demand,
    and only the earliest finish needs a timer. Timers are lazy: an arrival that slows everyone
    down keeps the armed timer, which then fires early and re-arms; only a job that finishes
    before the armed time needs a new timer (the old one, stale, is ignored by its generation).
    """

    __slots__ = ("_armed_at", "_generation", "_jobs", "_seq", "_updated", "_virtual",
                 "cores", "env", "name", "speed")

    def __init__(self, env: Environment, name: str, cores: float, speed: float = 1.0) -> None:
        if cores <= 0 or speed <= 0:
            raise ValueError("a host needs cores > 0 and speed > 0")
        self.env = env
        self.name = name
        self.cores = float(cores)
        self.speed = float(speed)
        self._jobs: list[tuple[float, int, Callable[[Any], None], Any]] = []
        self._virtual = 0.0
        self._updated = 0.0
        self._generation = 0
        self._armed_at = math.inf
        self._seq = count()

    def _rate(self, jobs: int) -> float:
        return self.speed if jobs <= self.cores else self.speed * self.cores / jobs

    def _advance(self, now: float) -> None:
        jobs = len(self._jobs)
        if jobs:
            self._virtual += (now - self._updated) * (
                self.speed if jobs <= self.cores else self.speed * self.cores / jobs)
        self._updated = now

    def run(self, demand: float, done: Callable[[Any], None], arg: Any = None) -> None:
        """Serve `demand` CPU-seconds, then call `done(arg)`."""
        now = self.env.now
        self._advance(now)
        jobs = self._jobs
        heapq.heappush(jobs, (self._virtual + demand, next(self._seq), done, arg))
        head = jobs[0][0]
        due = now + (head - self._virtual) / self._rate(len(jobs))
        if due < self._armed_at:
            self._arm(due - now)

    def _arm(self, delay: float) -> None:
        self._generation += 1
        delay = delay if delay > 0 else 0.0
        self._armed_at = self.env.now + delay
        self.env.timeout(delay, self._generation).callbacks.append(self._fire)

    def _fire(self, timer: Event) -> None:
        if timer._value != self._generation:
            return  # superseded by an earlier timer
        self._armed_at = math.inf
        now = self.env.now
        jobs = self._jobs
        count_ = len(jobs)
        rate = self.speed if count_ <= self.cores else self.speed * self.cores / count_
        virtual = self._virtual = self._virtual + (now - self._updated) * rate
        self._updated = now
        # done, or so nearly done that waiting would not move the clock (far from t=0 a tiny
        # delay added to `now` leaves it unchanged and would spin forever)
        delay = (jobs[0][0] - virtual) / rate
        if delay > 1e-12 and now + delay > now:
            self._arm(delay)  # fired early: others arrived since it was armed
            return
        _, _, done, arg = heapq.heappop(jobs)
        finished = None
        while jobs:
            delay = (jobs[0][0] - virtual) / rate
            if delay > 1e-12 and now + delay > now:
                break
            finished = finished or []
            finished.append(heapq.heappop(jobs))
        if jobs:
            self._arm((jobs[0][0] - virtual) / self._rate(len(jobs)))
        done(arg)
        if finished:
            for _, _, other, other_arg in finished:
                other(other_arg)


class Proc:
    """A deployable's process (or its workers): at most `threads` CPU bursts run at once (one per
    event loop or worker), the rest wait FIFO; running bursts share the host's cores.

    `busy_s` and `visits` are what a psutil sampler and a request log would see: the CPU-seconds
    consumed and the bursts served, per visit class, after `measure_from`.
    """

    __slots__ = (
        "_running",
        "_waiting",
        "busy_s",
        "env",
        "host",
        "measure_from",
        "name",
        "threads",
        "visits",
    )

    def __init__(self, env: Environment, name: str, host: Host, threads: int = 1) -> None:
        if threads < 1:
            raise ValueError("a process needs at least one thread")
        self.env = env
        self.name = name
        self.host = host
        self.threads = threads
        self._running = 0
        self._waiting: deque[tuple[float, str, int, Event]] = deque()
        self.busy_s = 0.0
        self.visits: dict[str, int] = {}
        self.measure_from = 0.0

    def cpu(self, demand: float, visit: str = "", n: int = 1, lead: float = 0.0) -> Event:
        """An event that succeeds when `demand` CPU-seconds have been served to this burst
        (which stands for `n` visits of class `visit`), which starts after `lead` seconds (a hop
        on the way: one timer instead of a separate wait). Counted when served, as psutil would."""
        event = Event(self.env)
        if lead > 0:
            self.env.timeout(lead, (demand, visit, n, event)).callbacks.append(self._arrive)
        else:
            self._start(demand, visit, n, event)
        return event

    def _arrive(self, timer: Event) -> None:
        self._start(*timer._value)

    def _start(self, demand: float, visit: str, n: int, event: Event) -> None:
        if self._running < self.threads:
            self._running += 1
            self.host.run(demand, self._finish, (demand, visit, n, event))
        else:
            self._waiting.append((demand, visit, n, event))

    def _finish(self, burst: tuple[float, str, int, Event]) -> None:
        demand, visit, n, event = burst
        if self.env.now >= self.measure_from:
            self.busy_s += demand
            if visit:
                self.visits[visit] = self.visits.get(visit, 0) + n
        event.succeed()
        if self._waiting:
            following = self._waiting.popleft()
            self.host.run(following[0], self._finish, following)
        else:
            self._running -= 1



class Tokens:
    """A FIFO pool of `size` tokens (a connection pool, a row lock with size 1).

    `take()` returns None when a token was free (no event needed), else an event that succeeds
    when one is handed over; `give()` returns a token.
    """

    __slots__ = ("_waiting", "env", "free", "size")

    def __init__(self, env: Environment, size: int) -> None:
        if size < 1:
            raise ValueError("a pool needs at least one token")
        self.env = env
        self.size = size
        self.free = size
        self._waiting: deque[Event] = deque()

    def take(self) -> Event | None:
        if self.free > 0:
            self.free -= 1
            return None
        event = Event(self.env)
        self._waiting.append(event)
        return event

    def give(self) -> None:
        if self._waiting:
            self._waiting.popleft().succeed()
        else:
            self.free += 1


def delay(env: Environment, seconds: float) -> simpy.Timeout:
    """A pure delay (a network hop, a disk flush, a remote call's latency)."""
    return env.timeout(seconds if seconds > 0 else 0.0)


def scheduled_events(env: Environment) -> int:
    """Events scheduled so far in `env` (SimPy numbers every event it schedules)."""
    return next(env._eid)
