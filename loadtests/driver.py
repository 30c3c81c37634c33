"""Runs one plan against a base URL inside a gevent process: measures the latency floor (when the
plan asks), starts the load model, measures, stops on time or on a stop request, and writes the
outputs."""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import time
from collections.abc import Callable
from pathlib import Path

import gevent
import psutil
from gevent.event import Event
from locust.env import Environment

from loadtests.floor import CONCURRENCY as FLOOR_CONCURRENCY
from loadtests.floor import measure_floor
from loadtests.inputs import BookingLedger, InputPicker
from loadtests.open_loop import OpenLoopDispatcher
from loadtests.operations import E2E_TIMEOUT_S, BookingOperations, Client
from loadtests.outputs import RunInfo, write_outputs
from loadtests.plan import Plan
from loadtests.recorder import Recorder
from loadtests.schedule import arrival_schedule
from loadtests.users import closed_loop_user, open_loop_user

#: After the last arrival, in-flight operations get this long to finish before they count as timeouts.
DRAIN_S = E2E_TIMEOUT_S + 5
TICK_S = 0.05
#: Closed-loop users started per second: Locust's own ceiling before it warns; the ramp falls in the warm-up.
SPAWN_RATE = 100
clock = time.perf_counter
logger = logging.getLogger(__name__)


def _cpu_s() -> float:
    times = psutil.Process().cpu_times()
    return times.user + times.system


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _wait(stop: Event, until: float, done: Callable[[], bool] = lambda: False) -> None:
    while not stop.is_set() and not done() and (remaining := until - clock()) > 0:
        stop.wait(min(TICK_S, remaining))


class _CpuProbe:
    """CPU seconds of this process over the measured period (after warm-up, up to the end of load)."""

    def __init__(self, at_warmup_end: float) -> None:
        self.start: float | None = None
        self._greenlet = gevent.spawn(self._mark, at_warmup_end)

    def _mark(self, at: float) -> None:
        gevent.sleep(max(0.0, at - clock()))
        self.start = _cpu_s()

    def stop(self) -> float:
        self._greenlet.kill()
        return 0.0 if self.start is None else _cpu_s() - self.start


def _mark_started(out_dir: Path, origin_epoch: float) -> None:
    """started.json, written (atomically) the moment the load begins: the harness times its
    faults from it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / "started.json.tmp"
    tmp.write_text(json.dumps({"epoch_s": origin_epoch}))
    tmp.replace(out_dir / "started.json")


def run(plan: Plan, host: str, out_dir: Path, stop: Event) -> bool:
    """Runs the plan; returns True when it was interrupted (the outputs are written either way)."""
    random.seed(plan.seed)  # Locust picks closed-loop tasks with the global generator
    ledger = BookingLedger(random.Random(f"ledger-{plan.seed}"))
    picker = InputPicker(plan.dataset, plan.seed)
    floor = None
    if plan.floor is not None:  # before the load, and before its clock starts
        probe = open_loop_user(host, FLOOR_CONCURRENCY)(Environment(user_classes=[], host=host)).client
        floor = measure_floor(
            plan.floor,
            lambda recorder: BookingOperations(probe, picker, ledger, recorder, clock, gevent.sleep,
                                               plan.poll_interval_s),
            clock, lambda until, done: _wait(stop, until, done))
    started_at = _now_iso()
    origin, origin_epoch = clock(), time.time()
    recorder = Recorder(origin, plan.warmup_s, plan.duration_s, plan.window_s,
                        trace=plan.trace_requests)
    _mark_started(out_dir, origin_epoch)
    cpu = _CpuProbe(origin + plan.warmup_s)

    def operations_for(client: Client) -> BookingOperations:
        return BookingOperations(client, picker, ledger, recorder, clock, gevent.sleep, plan.poll_interval_s,
                                 plan.poll_wait_s)

    end_of_load = origin + plan.duration_s
    if plan.model == "closed":
        user_class = closed_loop_user(host, plan.weights, plan.think_time_s, operations_for)
        env = Environment(user_classes=[user_class], host=host, stop_timeout=DRAIN_S)
        runner = env.create_local_runner()
        runner.start(plan.users, spawn_rate=SPAWN_RATE)
        _wait(stop, end_of_load)
        measured_until, cpu_s = min(clock(), end_of_load) - origin, cpu.stop()
        if stop.is_set():
            env.stop_timeout = 0
        runner.stop()  # lets each user finish the operation it is in (bounded by stop_timeout)
        runner.quit()
    else:
        env = Environment(user_classes=[], host=host)
        client = open_loop_user(host, plan.max_concurrency)(env).client
        schedule = arrival_schedule(plan.rate, plan.duration_s, plan.arrival, plan.weights, plan.seed)
        dispatcher = OpenLoopDispatcher(schedule, operations_for(client).run, recorder, clock,
                                        plan.max_concurrency)
        dispatcher.start(origin)
        _wait(stop, end_of_load)
        measured_until, cpu_s = min(clock(), end_of_load) - origin, cpu.stop()
        _wait(stop, end_of_load + DRAIN_S, lambda: dispatcher.finished)
        dispatcher.stop(count_unfinished=not stop.is_set())
    info = RunInfo(
        model=plan.model, offered_rate=plan.rate if plan.model == "open" else None, warmup_s=plan.warmup_s,
        measured_until_s=measured_until, started_at=started_at, finished_at=_now_iso(),
        generator_cpu_s=cpu_s, interrupted=stop.is_set(), origin_epoch=origin_epoch, floor=floor)
    write_outputs(out_dir, recorder, info)
    return stop.is_set()
