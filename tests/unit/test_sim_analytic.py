"""Queueing formulas against textbook values, and the engine's building blocks and determinism: mean
waiting times of M/M/1 and M/M/c, mean response times of M/M/1-PS and M/M/2-PS (more jobs than cores,
so the host's sharing and its early-firing timers count) and a closed network's throughput and response
time. The engine against these formulas, inside the 95% confidence interval of ten replications run in
worker processes, is in tests/integration/test_sim_analytic.py."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Generator

import pytest
import simpy

from sim.analytic import erlang_b, erlang_c, mm1_wait, mmc_wait, mva
from sim.engine import Host, Proc
from sim.engine_validation import (
    CASES,
    SharedCase,
    closed_network_cycle,
    mmc_waiting_time,
    ps_response_time,
)
from sim.stats import estimate, t_quantile_975

# --- formulas ---------------------------------------------------------------------------------------


def test_an_mm1_at_half_load_waits_one_service_time() -> None:
    assert mm1_wait(0.5, 1.0) == pytest.approx(1.0)
    assert mm1_wait(0.8, 1.0) == pytest.approx(4.0)
    assert mm1_wait(0.0, 1.0) == 0.0


def test_two_servers_at_one_erlang_make_a_third_of_arrivals_wait_a_third_of_a_second() -> None:
    assert erlang_c(2, 1.0, 1.0) == pytest.approx(1 / 3)
    assert mmc_wait(2, 1.0, 1.0) == pytest.approx(1 / 3)


def test_one_server_erlang_c_is_the_mm1() -> None:
    assert erlang_c(1, 0.7, 1.0) == pytest.approx(0.7)
    assert mmc_wait(1, 0.7, 2.0) == pytest.approx(mm1_wait(0.7, 2.0))


def _erlang_c_from_factorials(servers: int, load: float) -> float:
    """The textbook sum, in logarithms so that it does not overflow."""
    logs = [k * math.log(load) - math.lgamma(k + 1) for k in range(servers)]
    last = servers * math.log(load) - math.lgamma(servers + 1) + math.log(servers / (servers - load))
    top = max([*logs, last])
    return math.exp(last - top) / (sum(math.exp(value - top) for value in logs) + math.exp(last - top))


@pytest.mark.parametrize(("servers", "load"), [(3, 2.0), (8, 5.6), (50, 45.0), (200, 190.0)])
def test_erlang_c_agrees_with_the_factorial_sum_up_to_200_servers(servers: int, load: float) -> None:
    assert erlang_c(servers, load, 1.0) == pytest.approx(_erlang_c_from_factorials(servers, load), rel=1e-9)


def test_erlang_b_with_one_server_blocks_in_proportion_to_the_load() -> None:
    assert erlang_b(1, 1.0) == pytest.approx(0.5)


def test_mva_with_one_user_sees_no_queue() -> None:
    result = mva([0.2], users=1, think_time=0.8)
    assert result.response_time == pytest.approx(0.2)
    assert result.throughput == pytest.approx(1.0)


def test_mva_of_two_queues_and_two_users_matches_the_hand_computation() -> None:
    # n=1: R = (1, 2), X = 1/3, Q = (1/3, 2/3); n=2: R = (4/3, 10/3), X = 2 / (14/3) = 3/7
    result = mva([1.0, 2.0], users=2, think_time=0.0)
    assert result.residence_times == pytest.approx((4 / 3, 10 / 3))
    assert result.response_time == pytest.approx(14 / 3)
    assert result.throughput == pytest.approx(3 / 7)
    assert result.queue_lengths == pytest.approx((4 / 7, 10 / 7))


def test_mva_keeps_every_user_somewhere_and_a_delay_station_never_queues() -> None:
    result = mva([0.3, 0.5, 0.2], users=7, think_time=2.0, kinds=["queue", "delay", "queue"])
    assert result.residence_times[1] == pytest.approx(0.5)
    # Little's law over the cycle: users at the stations plus users thinking
    assert sum(result.queue_lengths) + result.throughput * 2.0 == pytest.approx(7)


def test_mva_throughput_saturates_at_the_bottleneck() -> None:
    result = mva([0.25, 0.15, 0.10], users=200, think_time=1.0)
    assert result.throughput == pytest.approx(4.0, rel=1e-6)
    assert result.utilisation([0.25, 0.15, 0.10])[0] == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda: mm1_wait(1.0, 1.0),
        lambda: mm1_wait(2.0, 1.0),
        lambda: mm1_wait(0.5, 0.0),
        lambda: mm1_wait(-0.1, 1.0),
        lambda: erlang_c(2, 2.0, 1.0),
        lambda: erlang_c(0, 0.5, 1.0),
        lambda: mmc_wait(4, 5.0, 1.0),
        lambda: mva([], users=1, think_time=1.0),
        lambda: mva([1.0], users=0, think_time=1.0),
        lambda: mva([-1.0], users=1, think_time=1.0),
        lambda: mva([1.0], users=1, think_time=-1.0),
        lambda: mva([1.0, 1.0], users=1, think_time=1.0, kinds=["queue"]),
        lambda: mva([1.0], users=1, think_time=1.0, kinds=["fifo"]),
        lambda: mva([0.0], users=1, think_time=0.0),
    ],
    ids=[
        "mm1 at full load", "mm1 overloaded", "mm1 without service", "mm1 negative arrivals",
        "mmc at full load", "mmc without servers", "mmc overloaded", "mva without stations",
        "mva without users", "mva negative demand", "mva negative think time", "mva kinds mismatch",
        "mva unknown kind", "mva nothing to do",
    ],
)
def test_invalid_inputs_are_refused(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        call()


def test_the_t_quantile_table_joins_its_expansion() -> None:
    assert t_quantile_975(9) == pytest.approx(2.2622)
    assert t_quantile_975(61) == pytest.approx(1.99962, abs=1e-5)
    assert t_quantile_975(10_000) == pytest.approx(1.96020, abs=1e-5)
    interval = estimate([1.0, 2.0, 3.0])
    assert (interval.mean, interval.n) == (2.0, 3)
    assert interval.half_width == pytest.approx(4.3027 / math.sqrt(3))


# --- processor sharing ------------------------------------------------------------------------------


def _host_finish_times(
    cores: float, demands: list[float], arrivals: list[float] | None = None
) -> list[float]:
    """When each job finishes, the k-th arriving at `arrivals[k]` (all at t=0 by default)."""
    env = simpy.Environment()
    host = Host(env, "host", cores=cores)
    finished = [math.nan] * len(demands)

    def arrive(index: int, demand: float, at: float) -> Generator[simpy.Event, object, None]:
        yield env.timeout(at)
        host.run(demand, lambda _arg: finished.__setitem__(index, env.now))

    for index, demand in enumerate(demands):
        env.process(arrive(index, demand, arrivals[index] if arrivals else 0.0))
    env.run()
    return finished


def test_two_jobs_on_one_core_share_it_and_both_finish_at_two_seconds() -> None:
    assert _host_finish_times(1, [1.0, 1.0]) == pytest.approx([2.0, 2.0])


def test_two_jobs_on_two_cores_run_at_full_speed() -> None:
    assert _host_finish_times(2, [1.0, 1.0]) == pytest.approx([1.0, 1.0])


def test_a_short_job_leaves_the_core_to_a_long_one() -> None:
    # both at half speed until the 1 s job is done at t=2; the 3 s job has 2 s left, alone
    assert _host_finish_times(1, [1.0, 3.0]) == pytest.approx([2.0, 4.0])


def test_a_job_arriving_mid_burst_slows_the_running_one_whose_timer_fires_early() -> None:
    # the first job's timer is armed for t=1; from t=0.5 both share the core, so its last 0.5 s of
    # work takes 1 s (done at 1.5) and the second, 0.5 s done by then, finishes alone at 2
    assert _host_finish_times(1, [1.0, 1.0], arrivals=[0.0, 0.5]) == pytest.approx([1.5, 2.0])
    # a third job on two cores: all three at 2/3 speed from t=0.5 until the first is done at 1.25
    assert _host_finish_times(2, [1.0, 1.0, 1.0], arrivals=[0.0, 0.0, 0.5]) == pytest.approx(
        [1.25, 1.25, 1.75])


def test_a_single_thread_process_serialises_its_bursts_even_on_two_cores() -> None:
    env = simpy.Environment()
    proc = Proc(env, "proc", Host(env, "host", cores=2), threads=1)
    finished: list[float] = []
    for _ in range(2):
        proc.cpu(1.0).callbacks.append(lambda _event: finished.append(env.now))
    env.run()
    assert finished == pytest.approx([1.0, 2.0])


def test_a_host_far_from_time_zero_still_finishes_every_job() -> None:
    # near t=1e7 a float step is ~2e-9 s: a finish rounded a hair short must not re-arm forever at env.now
    env = simpy.Environment(initial_time=1e7)
    host = Host(env, "host", cores=1)
    rng = random.Random(1)
    finished: list[float] = []
    for _ in range(200):
        host.run(rng.expovariate(1.0), lambda _arg: finished.append(env.now))
    for _ in range(10_000):
        if env.peek() == math.inf:
            break
        env.step()
    assert len(finished) == 200


# --- determinism ------------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_run_and_another_seed_another() -> None:
    first = mmc_waiting_time(2, 1.4, 1.0, customers=2_000, warmup=100, seed=1)
    assert mmc_waiting_time(2, 1.4, 1.0, customers=2_000, warmup=100, seed=1) == first
    assert mmc_waiting_time(2, 1.4, 1.0, customers=2_000, warmup=100, seed=2) != first
    shared = ps_response_time(2, 1.4, 1.0, customers=2_000, warmup=100, seed=1)
    assert ps_response_time(2, 1.4, 1.0, customers=2_000, warmup=100, seed=1) == shared
    assert ps_response_time(2, 1.4, 1.0, customers=2_000, warmup=100, seed=2) != shared
    cycle = closed_network_cycle((0.2, 0.1), users=3, think_time=0.5, duration_s=200.0, warmup_s=10.0, seed=1)
    assert closed_network_cycle((0.2, 0.1), 3, 0.5, 200.0, 10.0, seed=1) == cycle
    assert closed_network_cycle((0.2, 0.1), 3, 0.5, 200.0, 10.0, seed=2) != cycle


# --- the engine against the formulas ----------------------------------------------------------------


def test_processor_sharing_is_checked_on_one_and_two_cores_against_the_mm1_and_mm2_sojourn() -> None:
    shared = {case.cores: case for case in CASES if isinstance(case, SharedCase)}
    assert set(shared) >= {1, 2}
    for case in shared.values():
        assert case.arrival_rate / (case.cores * case.service_rate) == pytest.approx(0.7)
    # M/M/1: 1 / (mu - lambda); M/M/2: 1 / (mu (1 - rho^2)), the textbook closed form of Wq + 1/mu
    assert shared[1].analytic()["mean_response_s"] == pytest.approx(1 / 0.3)
    assert shared[2].analytic()["mean_response_s"] == pytest.approx(1 / (1 - 0.7**2))
