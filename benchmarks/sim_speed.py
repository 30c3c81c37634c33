"""How fast the simulation runs: the models' event rate against SimPy's raw event rate measured in
the same process, and the wall time to simulate a million requests of the microservices model with
independent replications in parallel processes.

    .venv/bin/python benchmarks/sim_speed.py [--requests 1000000] [--rate 40] [--repeats 3]

Raw rate: 100 SimPy processes each waiting exponential timeouts (one event per wait, the cheapest
thing SimPy does). Model rate: events scheduled by the model (SimPy numbers each one) per wall
second, at the scenario's mix and `--rate` requests/s on the shipped calibration.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import simpy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.config.loading import load_scenario  # noqa: E402
from sim import params  # noqa: E402
from sim.engine import scheduled_events  # noqa: E402
from sim.model import settings_for, simulate  # noqa: E402

SCENARIO = ROOT / "scenarios" / "baseline.yaml"


def raw_simpy_rate(seconds: float = 2.0) -> float:
    env = simpy.Environment()
    rng = random.Random(1)

    def waiter(env: simpy.Environment) -> Iterator[simpy.Timeout]:
        expo = rng.expovariate
        while True:
            yield env.timeout(expo(1.0))

    for _ in range(100):
        env.process(waiter(env))
    began = time.perf_counter()
    horizon = 0.0
    while time.perf_counter() - began < seconds:
        horizon += 1000.0
        env.run(until=horizon)
    return scheduled_events(env) / (time.perf_counter() - began)


def model_run(args: tuple[str, float, float, int]) -> tuple[int, int, float]:
    """(events, requests, wall seconds) of one simulation."""
    architecture, rate, duration, seed = args
    scenario = load_scenario(SCENARIO, [f"sim.duration_s={duration}", "sim.warmup_s=1"])
    outcome = simulate(settings_for(scenario, params.default(), architecture, rate, seed))
    return outcome.events, outcome.requests, outcome.wall_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=40.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, SimPy {simpy.__version__}")
    for arch in ("monolith", "microservices"):
        ratios = []
        for _ in range(args.repeats):
            raw = raw_simpy_rate()
            events, requests, wall = model_run((arch, args.rate, 60.0, 1))
            ratios.append((events / wall) / raw)
            print(f"{arch:14s} raw SimPy {raw:,.0f} events/s | model {events / wall:,.0f} events/s "
                  f"= {events / wall / raw:.0%} of raw | {requests / wall:,.0f} requests/s "
                  f"({events / requests:.0f} events/request)")
        print(f"{arch:14s} ratio median {statistics.median(ratios):.0%} "
              f"(min {min(ratios):.0%}, max {max(ratios):.0%})")

    per_process = args.requests / args.processes
    duration = per_process / args.rate
    began = time.perf_counter()
    jobs = [("microservices", args.rate, duration, seed) for seed in range(args.processes)]
    with ProcessPoolExecutor(args.processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(model_run, jobs))
    wall = time.perf_counter() - began
    total = sum(r[1] for r in results)
    print(f"microservices: {total:,} requests in {args.processes} parallel replications of "
          f"{duration:,.0f} simulated s at {args.rate:g} req/s: {wall:.1f} s wall "
          f"({total / wall:,.0f} simulated requests/s)")


if __name__ == "__main__":
    main()
