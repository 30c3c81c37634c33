"""How long each part of `archbench run` took, kept in run.json (`timings`) as the run goes: per
run its deploy, idle CPU, load, collect, check and teardown; then the simulation, the audit, the
scorecard and the report. What a user waits for, and which part of it the load itself is."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any


class Timings:
    def __init__(self, changed: Callable[[], None] = lambda: None) -> None:
        self.entries: list[dict[str, Any]] = []
        self.changed = changed
        self._began = time.perf_counter()

    def add(self, step: str, seconds: float, run: str | None = None) -> None:
        self.entries.append({"step": step, **({"run": run} if run else {}),
                             "seconds": round(seconds, 2)})
        self.changed()

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the block, also when it fails or is interrupted."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started)

    def laps(self, run: str) -> Lap:
        return Lap(self, run)

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self._began


class Lap:
    """Consecutive parts of one run: each `lap(name)` records the time since the previous one."""

    def __init__(self, timings: Timings, run: str) -> None:
        self._timings, self._run = timings, run
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self._timings.add(name, now - self._last, self._run)
        self._last = now
