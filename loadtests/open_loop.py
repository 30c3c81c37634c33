"""The open-loop load shape: one precomputed arrival schedule, a dispatcher greenlet that starts each
operation at its intended time, and a bounded pool. Latency counts from the intended time, so a full
pool or a slow generator shows up as latency instead of silently lowering the offered rate."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import gevent
from gevent.pool import Pool

from loadtests.recorder import Recorder
from loadtests.schedule import Arrival

logger = logging.getLogger(__name__)


class OpenLoopDispatcher:
    def __init__(self, schedule: Sequence[Arrival], run_operation: Callable[[str, float], None],
                 recorder: Recorder, clock: Callable[[], float], max_concurrency: int) -> None:
        self.schedule = schedule
        self.run_operation = run_operation
        self.recorder = recorder
        self.clock = clock
        self.pool = Pool(max_concurrency)
        self.next_arrival = 0
        self.pending: dict[int, tuple[str, float]] = {}  # dispatched (or waiting for a slot), not finished
        self._greenlet: gevent.Greenlet | None = None
        self._failures_logged = 0
        self._origin = 0.0

    def start(self, origin: float) -> None:
        self._origin = origin
        self._greenlet = gevent.spawn(self._dispatch, origin)

    def _dispatch(self, origin: float) -> None:
        for i, arrival in enumerate(self.schedule):
            intended = origin + arrival.offset_s
            delay = intended - self.clock()
            if delay > 0:
                gevent.sleep(delay)
            self.pending[i] = (arrival.operation, intended)
            self.next_arrival = i + 1
            pool_full = self.pool.full()
            self.pool.spawn(self._arrive, i, arrival.operation, intended, pool_full)  # waits while full

    def _arrive(self, i: int, operation: str, intended: float, pool_full: bool = False) -> None:
        self.recorder.started(intended, self.clock(), pool_full=pool_full)
        try:
            self.run_operation(operation, intended)
        except Exception:
            self.recorder.error(operation, "exception", intended, self.clock())
            if self._failures_logged < 5:
                self._failures_logged += 1
                logger.exception("operation %s failed", operation)
        finally:
            self.pending.pop(i, None)

    @property
    def finished(self) -> bool:
        return self.next_arrival == len(self.schedule) and not self.pending

    def stop(self, *, count_unfinished: bool) -> None:
        """Stops dispatching and kills what runs; unfinished arrivals count as timeouts if asked."""
        if self._greenlet is not None:
            self._greenlet.kill()
        unfinished = list(self.pending.values()) + [
            (a.operation, self._origin + a.offset_s) for a in self.schedule[self.next_arrival:]]
        self.pool.kill()
        if count_unfinished:
            now = self.clock()
            for operation, intended in unfinished:
                self.recorder.error(operation, "timeout", intended, now)
