"""What the load generator reports about itself: its latency floor, measured by a probe before the
load, and whether it was saturated (generator-bound), judged from its CPU and its late starts."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from harness.load.plan import FLOOR_PROBE
from harness.results.generator import (
    CPU_SHARE_LIMIT,
    LATE_FRACTION_LIMIT,
    generator_columns,
    generator_per_step,
    judge,
)
from loadtests.floor import OPERATION, floor_summary
from loadtests.plan import FloorProbe, PlanError, parse_plan
from loadtests.recorder import LATE_START_S, Recorder

CALM: dict[str, Any] = {"model": "open", "generator_cpu_share": 0.3, "arrivals": 1000,
                        "late_starts": 0, "late_starts_pool_full": 0,
                        "requests": {"search_availability": 800, "book": 200, "book_e2e": 200}}


def _summary(**changes: Any) -> dict[str, Any]:
    return {**CALM, **changes}


def test_a_calm_generator_is_not_bound() -> None:
    verdict = judge(_summary())
    assert not verdict.bound and verdict.reason == ""


def test_a_generator_at_80_percent_of_its_cpu_is_bound() -> None:
    assert not judge(_summary(generator_cpu_share=CPU_SHARE_LIMIT - 0.01)).bound

    verdict = judge(_summary(generator_cpu_share=CPU_SHARE_LIMIT))

    assert verdict.bound
    assert verdict.reason == "generator CPU 80% of one CPU (≥ 80%)"


def test_more_than_1_percent_of_arrivals_late_is_bound() -> None:
    assert not judge(_summary(late_starts=10)).bound  # exactly 1%

    verdict = judge(_summary(late_starts=25))

    assert verdict.bound
    assert verdict.reason == "2.5% of arrivals started > 10 ms late (> 1%)"
    assert LATE_FRACTION_LIMIT == 0.01 and LATE_START_S == 0.010


def test_late_starts_of_arrivals_that_waited_for_a_full_pool_are_the_systems() -> None:
    """The system held max_concurrency requests: the generator waited on it, and the latency of
    those arrivals still counts from their intended time."""
    assert not judge(_summary(late_starts=300, late_starts_pool_full=295)).bound
    assert judge(_summary(late_starts=300, late_starts_pool_full=200)).bound


def test_both_reasons_are_given_when_both_hold() -> None:
    verdict = judge(_summary(generator_cpu_share=0.95, late_starts=100))
    assert verdict.reason.count(";") == 1 and "CPU 95%" in verdict.reason and "10.0%" in verdict.reason


def test_a_closed_loop_run_is_judged_on_cpu_alone() -> None:
    assert not judge(_summary(model="closed", late_starts=500, arrivals=0)).bound
    assert judge(_summary(model="closed", generator_cpu_share=0.9)).bound


def test_a_summary_from_before_arrivals_were_counted_uses_the_requests() -> None:
    old = _summary(late_starts=20)
    del old["arrivals"], old["late_starts_pool_full"]

    verdict = judge(old)  # 20 of 1000 requests (book_e2e is not a request of its own)

    assert verdict.bound and verdict.reason == (
        "2.0% of arrivals started > 10 ms late (> 1%), some perhaps behind a full pool: not "
        "counted apart then")


def test_a_summary_without_any_of_it_is_not_bound() -> None:
    assert not judge({}).bound


def test_the_run_columns_carry_the_floor_and_the_verdict() -> None:
    columns = generator_columns(_summary(floor={"p50_ms": 0.8, "p99_ms": 2.1},
                                         generator_cpu_share=0.9))
    assert columns["floor_p50_ms"] == 0.8 and columns["floor_p99_ms"] == 2.1
    assert columns["generator_bound"] is True
    assert columns["generator_bound_reason"].startswith("generator CPU 90%")

    old = generator_columns(_summary())  # a run from before the floor probe
    assert pd.isna(old["floor_p50_ms"]) and old["generator_bound"] is False


def test_a_step_is_bound_when_any_of_its_repeats_is_and_says_which() -> None:
    rows = [{"architecture": "monolith", "step": 0, "repeat": r, "operation": op,
             "floor_p50_ms": 1.0 + r, "floor_p99_ms": 3.0, "generator_bound": r == 1,
             "generator_bound_reason": "generator CPU 90% of one CPU (≥ 80%)" if r == 1 else ""}
            for r in range(3) for op in ("book", "list_hotels")]

    step = generator_per_step(pd.DataFrame(rows)).iloc[0]

    assert step["floor_p50_ms"] == 2.0  # median across repeats, each run counted once
    assert bool(step["generator_bound"])
    assert step["generator_bound_reason"] == "r1: generator CPU 90% of one CPU (≥ 80%)"


def test_every_run_plans_the_floor_probe_and_the_generator_accepts_it() -> None:
    from harness.config.loading import load_scenario
    from harness.load.plan import load_plan

    plan = parse_plan(load_plan(load_scenario(None), 20))

    assert plan.floor == FloorProbe(**FLOOR_PROBE)
    # enough samples after the probe's own warm-up to support a p99
    assert (plan.floor.duration_s - plan.floor.warmup_s) * plan.floor.rate >= 100


@pytest.mark.parametrize(("floor", "key"), [
    ({"rate": 0}, "floor.rate"),
    ({"path": "health"}, "floor.path"),
    ({"duration_s": 1, "warmup_s": 1}, "floor.warmup_s"),
    ({"colour": "red"}, "floor.colour"),
    ([1], "floor"),
])
def test_a_bad_floor_probe_is_refused_naming_the_key(floor: Any, key: str) -> None:
    with pytest.raises(PlanError) as refused:
        parse_plan({"model": "open", "floor": floor})
    assert refused.value.key == key


def test_the_floor_summary_keeps_the_probe_its_counts_and_percentiles() -> None:
    probe = FloorProbe(rate=100, duration_s=3, warmup_s=0.5)
    recorder = Recorder(0.0, probe.warmup_s, probe.duration_s, probe.duration_s)
    recorder.record(OPERATION, 0.1, 0.2)  # the probe's warm-up: dropped
    for i in range(100):
        recorder.started(1.0 + i / 100, 1.0 + i / 100)
        recorder.record(OPERATION, 1.0 + i / 100, 1.0 + i / 100 + (0.001 if i < 99 else 0.010))
    recorder.error(OPERATION, "http_503", 2.5, 2.6)

    floor = floor_summary(recorder, probe)

    assert floor["count"] == 100 and floor["errors"] == 1 and floor["late_starts"] == 0
    assert floor["p50_ms"] == pytest.approx(1.0) and floor["max_ms"] == pytest.approx(10.0, rel=0.001)
    assert floor["path"] == "/health" and floor["rate"] == 100


def test_the_recorder_counts_arrivals_and_tells_late_starts_behind_a_full_pool_apart() -> None:
    recorder = Recorder(0.0, 1.0, 5.0, 1.0)
    recorder.started(0.5, 0.9)  # warm-up: not counted
    recorder.started(2.0, 2.001)
    recorder.started(2.1, 2.3)
    recorder.started(2.2, 2.5, pool_full=True)

    assert recorder.arrivals == 3
    assert recorder.late_starts == 2 and recorder.late_starts_pool_full == 1
