"""The generator's latency floor: what this process reports for the cheapest request of the
contract (GET /health through the gateway) on the deployment under test, in the same run.

The probe runs just before the load, at a low fixed rate, through the same client library, the
same open-loop dispatcher and the same pinned CPU as the load. Before the load rather than mixed
into it: the floor is what the measuring path adds (this process, the loopback, the gateway, the
cheapest handler) when nothing competes; mixed into the load, the probe would queue in the gateway
and the apps behind the workload and measure the system's queueing instead. What the generator
adds *under* load is judged from its late starts and CPU (the harness marks such runs
generator-bound), so the two together cover it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loadtests.open_loop import OpenLoopDispatcher
from loadtests.operations import BookingOperations
from loadtests.plan import FloorProbe
from loadtests.recorder import Recorder, percentiles_ms
from loadtests.schedule import Arrival, arrival_offsets

OPERATION = "health"
#: Requests in flight at once: at 100 req/s of sub-millisecond answers one or two are, so a few
#: slots are never the limit, and the probe cannot flood the gateway if it stalls.
CONCURRENCY = 8
#: After the last arrival, how long the probe's requests get to finish.
DRAIN_S = 5.0

Wait = Callable[[float, Callable[[], bool]], None]  # until (monotonic), done early?


def measure_floor(probe: FloorProbe, operations_for: Callable[[Recorder], BookingOperations],
                  clock: Callable[[], float], wait: Wait) -> dict[str, Any]:
    """Send the probe on its fixed schedule, latency from each intended send time; its summary."""
    origin = clock()
    recorder = Recorder(origin, probe.warmup_s, probe.duration_s, probe.duration_s)
    operations = operations_for(recorder)
    schedule = [Arrival(offset, OPERATION)
                for offset in arrival_offsets(probe.rate, probe.duration_s, "fixed", 0)]
    dispatcher = OpenLoopDispatcher(
        schedule, lambda _, intended: operations.health(intended, probe.path), recorder, clock,
        CONCURRENCY)
    dispatcher.start(origin)
    wait(origin + probe.duration_s + DRAIN_S, lambda: dispatcher.finished)
    dispatcher.stop(count_unfinished=True)
    return floor_summary(recorder, probe)


def floor_summary(recorder: Recorder, probe: FloorProbe) -> dict[str, Any]:
    """What summary.json keeps of the probe: its settings, counts and percentiles in ms."""
    histogram = recorder.histograms.get(OPERATION)
    measured = percentiles_ms(histogram) if histogram is not None else {}
    return {
        "path": probe.path, "rate": probe.rate, "duration_s": probe.duration_s,
        "warmup_s": probe.warmup_s,
        "count": histogram.get_total_count() if histogram is not None else 0,
        "errors": sum(recorder.errors.get(OPERATION, {}).values()),
        "late_starts": recorder.late_starts,
        **{f"{name}_ms": measured.get(name) for name in ("p50", "p90", "p99", "max", "mean")},
    }
