"""Latency and error recording: HDR histograms (1 µs .. 120 s, 3 significant digits, microseconds)
per operation over the measured period and per (window, operation). Warm-up samples are dropped.

Every time passed in is a monotonic clock reading. A sample's time is its *start*: the intended send
time in the open loop (so queueing anywhere shows up as latency), the actual start in the closed loop.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from hdrh.histogram import HdrHistogram

from loadtests.plan import OPERATIONS

LOWEST_US = 1
HIGHEST_US = 120_000_000
SIGNIFICANT_FIGURES = 3
LATE_START_S = 0.010
#: Live window histograms kept per operation; older ones are held encoded (a live one is ~0.6 MB).
LIVE_WINDOWS = 3
OPERATION_ORDER = (*OPERATIONS[:3], "book_e2e", *OPERATIONS[3:])


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES)


def _record(histogram: HdrHistogram, seconds: float) -> None:
    histogram.record_value(min(HIGHEST_US, max(LOWEST_US, round(seconds * 1_000_000))))


def _ordered(ops: set[str]) -> list[str]:
    return sorted(ops, key=lambda op: (OPERATION_ORDER.index(op) if op in OPERATION_ORDER else 99, op))


def percentiles_ms(histogram: HdrHistogram) -> dict[str, float]:
    def at(percentile: float) -> float:
        return round(histogram.get_value_at_percentile(percentile) / 1000, 3)

    return {"p50": at(50), "p90": at(90), "p99": at(99), "p999": at(99.9),
            "max": round(histogram.get_max_value() / 1000, 3),
            "mean": round(histogram.get_mean_value() / 1000, 3)}


class _Windows:
    """Per-(window, operation) histograms; windows left behind are encoded to bound memory."""

    def __init__(self) -> None:
        self._live: dict[tuple[int, str], HdrHistogram] = {}
        self._encoded: dict[tuple[int, str], bytes] = {}
        self._newest = -1

    def record(self, window: int, op: str, seconds: float) -> None:
        key = (window, op)
        histogram = self._live.get(key)
        if histogram is None:
            blob = self._encoded.pop(key, None)
            histogram = HdrHistogram.decode(blob) if blob is not None else new_histogram()
            self._live[key] = histogram
        _record(histogram, seconds)
        if window > self._newest:
            self._newest = window
            for old in [k for k in self._live if k[0] <= window - LIVE_WINDOWS]:
                self._encoded[old] = self._live.pop(old).encode()

    def get(self, window: int, op: str) -> HdrHistogram | None:
        key = (window, op)
        if key in self._live:
            return self._live[key]
        blob = self._encoded.get(key)
        return HdrHistogram.decode(blob) if blob is not None else None


@dataclass(frozen=True)
class WindowRow:
    window_start_s: float
    operation: str
    count: int
    errors: int
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None


class Recorder:
    """Collects one run's samples; `origin` is the monotonic time the load started."""

    def __init__(self, origin: float, warmup_s: float, duration_s: float, window_s: float,
                 *, trace: bool = False) -> None:
        self.origin = origin
        self.warmup_s = warmup_s
        self.duration_s = duration_s
        self.window_s = window_s
        self.histograms: dict[str, HdrHistogram] = {}
        self.errors: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._window_errors: dict[tuple[int, str], int] = defaultdict(int)
        self._windows = _Windows()
        self.lag = new_histogram()
        self.arrivals = 0  # open loop: arrivals due in the measured period
        self.late_starts = 0
        #: late starts of arrivals that found every slot of the pool taken: the system held
        #: max_concurrency requests in flight, the generator was waiting on it
        self.late_starts_pool_full = 0
        self.completed_in_period: dict[str, int] = defaultdict(int)
        #: Every request, warm-up included, when tracing: (start offset s, operation, error kind
        #: or "" for a success, latency s). Faults are judged request by request from it.
        self.trace: list[tuple[float, str, str, float]] | None = [] if trace else None

    def _completed(self, op: str, end: float) -> None:
        """Throughput counts completions by *end* time, so a saturated system shows its real rate."""
        if self.warmup_s <= end - self.origin < self.duration_s:
            self.completed_in_period[op] += 1

    def _window(self, start: float) -> int | None:
        """The measured window a sample starting at `start` falls in, or None (warm-up or after the end)."""
        offset = start - self.origin
        if offset < self.warmup_s or offset >= self.duration_s:
            return None
        return int((offset - self.warmup_s) // self.window_s)

    def record(self, op: str, start: float, end: float) -> None:
        """A successful operation that started (or was due) at `start` and completed at `end`."""
        self._completed(op, end)
        if self.trace is not None:
            self.trace.append((start - self.origin, op, "", end - start))
        window = self._window(start)
        if window is None:
            return
        histogram = self.histograms.get(op)
        if histogram is None:
            histogram = self.histograms[op] = new_histogram()
        _record(histogram, end - start)
        self._windows.record(window, op, end - start)

    def error(self, op: str, kind: str, start: float, end: float) -> None:
        self._completed(op, end)
        if self.trace is not None:
            self.trace.append((start - self.origin, op, kind, end - start))
        window = self._window(start)
        if window is None:
            return
        self.errors[op][kind] += 1
        self._window_errors[(window, op)] += 1

    def started(self, intended: float, actual: float, *, pool_full: bool = False) -> None:
        """An open-loop arrival began `actual - intended` seconds after it was due; `pool_full`:
        it had to wait for a free slot."""
        if self._window(intended) is None:
            return
        self.arrivals += 1
        lag = max(0.0, actual - intended)
        _record(self.lag, lag)
        if lag > LATE_START_S:
            self.late_starts += 1
            self.late_starts_pool_full += pool_full

    def operations(self) -> list[str]:
        return _ordered(set(self.histograms) | {op for op, kinds in self.errors.items() if kinds})

    def requests(self) -> dict[str, int]:
        """Completed operations per operation in the measured period, successes and errors alike."""
        return {op: (self.histograms[op].get_total_count() if op in self.histograms else 0)
                + sum(self.errors.get(op, {}).values()) for op in self.operations()}

    def window_rows(self, measured_until_s: float) -> list[WindowRow]:
        """One row per (window, operation) for windows starting before `measured_until_s`."""
        span = min(measured_until_s, self.duration_s) - self.warmup_s
        windows = max(0, math.ceil(span / self.window_s - 1e-9))
        rows = []
        for window in range(windows):
            for op in self.operations():
                histogram = self._windows.get(window, op)
                count = histogram.get_total_count() if histogram is not None else 0
                pct = percentiles_ms(histogram) if histogram is not None and count else None
                rows.append(WindowRow(
                    window_start_s=round(self.warmup_s + window * self.window_s, 6), operation=op,
                    count=count, errors=self._window_errors.get((window, op), 0),
                    p50_ms=pct["p50"] if pct else None, p90_ms=pct["p90"] if pct else None,
                    p99_ms=pct["p99"] if pct else None))
        return rows

    def lag_ms(self) -> dict[str, float]:
        if not self.lag.get_total_count():
            return {"p99": 0.0, "max": 0.0}
        return {"p99": round(self.lag.get_value_at_percentile(99) / 1000, 3),
                "max": round(self.lag.get_max_value() / 1000, 3)}
