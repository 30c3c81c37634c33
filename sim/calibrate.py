"""Calibration: the models' parameters measured from a run folder.

Method (also printed in the report):

1. **Measurements** (read from the run folder by the harness's pipeline, handed over as `Step`s).
   For every run of an architecture: its offered and achieved rate, each
   operation's p50 and p99 (HDR histograms of the measured period), and each component's CPU
   (psutil, cumulative, interpolated at the window's ends) in the measured period and in the idle
   seconds the runner records before the load starts.
2. **Background CPU** of a component is its CPU rate while idle (median over runs); a folder
   without idle windows falls back to the intercept of CPU rate against load across its steps,
   and to zero for a single step.
3. **Service demand law.** D = U / X: a component's CPU per visit is its CPU-seconds above
   background divided by the visits it served. Visits (requests handled, statements, messages
   moved) are not logged by the apps, so the model counts them: it is run at each measured load
   and reports how many visits of each component the measured completions imply. Pooled over the
   steps that kept up with their offered load (>= 95%): D = Σ(CPU - background) / Σ visits.
   Visits barely depend on the demands (only through polls), so two rounds settle them.
4. **Residual latency.** At the lowest measured load (the calibration point) the model with
   these demands and no residual gives each operation's latency distribution; what the measured
   p50 and p99 exceed it by is fitted as a lognormal residual (latency no modelled component
   accounts for: client, framework and kernel overhead, I/O waits). The variability of one CPU
   burst (cv 0.5 or 1) is chosen there too: the one whose fitted residuals leave the smaller
   p50/p99 misfit. Every other step is a prediction, and the validation table says which row was
   used for calibration.

The network hop (one-way, between two processes on the loopback) is not measurable from a run
folder and keeps its configured value (50 µs unless edited).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from harness.config.scenario import Scenario
from sim.model import Outcome, settings_for, simulate
from sim.params import (
    ARCHITECTURES,
    COMPONENTS,
    LATENCIES,
    ArchParams,
    Calibration,
    Component,
    Residual,
)
from sim.study import Job, run_jobs

CV_CANDIDATES = (0.5, 1.0)  # coefficient of variation of a CPU burst: fixed-ish or exponential
KEEPING_UP = 0.95  # a step whose achieved rate is below this share of offered is saturated
CALIBRATION_REQUESTS = 25_000  # per simulated level: the mix's sampling noise stays near 1%


@dataclass
class Step:
    """One measured run (or a simulated one, for the round trip)."""

    architecture: str
    repeat: int
    step: int
    level: float  # offered rate (open) or users (closed)
    achieved_rate: float
    measured_s: float
    cpu_cores: dict[str, float]  # per component, in the measured period
    idle_cores: dict[str, float] | None  # per component, with no load
    p50_ms: dict[str, float]
    p99_ms: dict[str, float]
    counts: dict[str, int] = field(default_factory=dict)
    model: str = "open"

    @property
    def keeps_up(self) -> bool:
        """Open loop: achieved >= 95% of offered. A closed loop throttles itself, so every step
        counts (its level is users, not a rate)."""
        return self.model == "closed" or self.achieved_rate >= KEEPING_UP * self.level


def step_from_outcome(outcome: Outcome, background: dict[str, float], step: int = 0) -> Step:
    """What a run folder would have recorded of a simulation (the calibration round trip)."""
    ops = [op for op in outcome.latencies if len(outcome.latencies[op])]
    return Step(
        architecture=outcome.architecture, repeat=0, step=step, level=outcome.level,
        achieved_rate=outcome.throughput, measured_s=outcome.measured_s,
        cpu_cores={c: s / outcome.measured_s for c, s in outcome.cpu_s.items()},
        idle_cores=dict(background),
        p50_ms={op: outcome.quantile_ms(op, 0.5) for op in ops},
        p99_ms={op: outcome.quantile_ms(op, 0.99) for op in ops},
        counts={op: len(outcome.latencies[op]) for op in ops},
    )


def measured_cores(environment: dict[str, Any], fallback: float) -> float:
    """The cores of the machine a run was measured on (environment.json), which the model of
    that run must have."""
    try:
        cores = float(environment.get("cores") or 0)
    except (TypeError, ValueError):
        cores = 0.0
    return cores if cores > 0 else fallback


def measured_placement(environment: dict[str, Any], fallback_cores: float) -> dict[str, Any]:
    """Where a run's processes ran, as `sim` settings: with the CPU split of its
    environment.json (`cpu_split`), the system had only its own CPUs and the generator its
    own, so host 0 gets the system's CPUs and the generator a host of its CPUs; without one,
    everything shared the machine's cores."""
    split = environment.get("cpu_split") or {}
    system, generator = split.get("system"), split.get("generator")
    if split.get("pinned") and system and generator:
        return {"cores_per_host": float(len(system)), "generator_on_host": False,
                "generator_cores": float(len(generator))}
    return {"cores_per_host": measured_cores(environment, fallback_cores),
            "generator_on_host": True, "generator_cores": None}


def calibrate(steps: list[Step], scenario: Scenario, base: Calibration,
              source: dict[str, Any] | None = None, rounds: int = 2,
              processes: int | None = None) -> Calibration:
    """Fit every architecture found in `steps`; `base` supplies the starting point and whatever the
    measurements cannot (the hop)."""
    cal = base
    notes: list[str] = []
    for arch in ARCHITECTURES:
        mine = [s for s in steps if s.architecture == arch]
        if not mine:
            continue
        background = _background(mine, arch, notes)
        usable = [s for s in mine if s.keeps_up] or [min(mine, key=lambda s: s.level)]
        params = ArchParams({name: replace(c, background_cores=background[name])
                             for name, c in cal.arch(arch).components.items()}, {})
        for round_ in range(rounds):
            # the first round only needs visits roughly right; the last one sets the demands
            size = CALIBRATION_REQUESTS if round_ == rounds - 1 else CALIBRATION_REQUESTS // 5
            params = _demands(usable, scenario, cal.with_arch(arch, params), arch, background,
                              processes, size, notes if round_ == rounds - 1 else None)
        lowest = min(mine, key=lambda s: (s.level, s.repeat))
        at_lowest = [s for s in mine if s.level == lowest.level]
        # the variability of a CPU burst is not in the CPU totals: each candidate is tried at the
        # calibration point, and the one whose fitted residuals reproduce p50 and p99 best is kept
        fits = []
        for cv in CV_CANDIDATES:
            candidate = ArchParams({n: replace(c, cv=cv) for n, c in params.components.items()}, {})
            residuals, misfit = _residuals(at_lowest, scenario, cal.with_arch(arch, candidate), arch)
            fits.append((misfit, cv, ArchParams(candidate.components, residuals)))
        misfit, cv, chosen = min(fits, key=lambda fit: fit[0])
        notes.append(f"{arch}: CPU burst cv {cv:g} (mean misfit of p50/p99 at the calibration point "
                     + ", ".join(f"cv {c:g}: {m:.1%}" for m, c, _ in fits) + ")")
        cal = cal.with_arch(arch, chosen)
    meta = dict(source or {})
    meta.update({"method": "service demand law; see sim/calibrate.py", "notes": notes,
                 "calibration_level": {a: min(s.level for s in steps if s.architecture == a)
                                       for a in {s.architecture for s in steps}}})
    return replace(cal, source=meta)


def _background(steps: list[Step], arch: str, notes: list[str]) -> dict[str, float]:
    result = {}
    for name in COMPONENTS[arch]:
        idle = [s.idle_cores[name] for s in steps if s.idle_cores and name in s.idle_cores]
        if idle:
            result[name] = max(0.0, statistics.median(idle))
            continue
        points = [(s.achieved_rate, s.cpu_cores[name]) for s in steps
                  if s.keeps_up and name in s.cpu_cores]
        if len({x for x, _ in points}) >= 2:
            _slope, intercept = np.polyfit([x for x, _ in points], [y for _, y in points], 1)
            result[name] = max(0.0, float(intercept))
            notes.append(f"{arch}.{name}: background from the intercept across steps (no idle window)")
        else:
            result[name] = 0.0
            notes.append(f"{arch}.{name}: background unknown (no idle window, one step): taken as 0")
    return result


def _demands(steps: list[Step], scenario: Scenario, cal: Calibration, arch: str,
             background: dict[str, float], processes: int | None, requests: int,
             notes: list[str] | None = None) -> ArchParams:
    """D = Σ(CPU above background) / Σ visits, visits counted by the model at each step's load."""
    above: dict[str, float] = {}
    visits: dict[str, float] = {}
    levels = sorted({s.level for s in steps})
    jobs = [Job(_as_measured(scenario, level, requests), cal, arch, level, seed=1) for level in levels]
    for level, row in zip(levels, run_jobs(jobs, processes).to_dict("records"), strict=True):
        at_level = [s for s in steps if s.level == level]
        for name in COMPONENTS[arch]:
            if not row.get(f"visits_{name}"):
                continue
            per_second = row[f"visits_{name}"]
            # scale the model's visits to the throughput actually measured
            scale = statistics.mean(s.achieved_rate for s in at_level) / max(row["throughput"], 1e-9)
            for s in at_level:
                if name not in s.cpu_cores:
                    continue
                above[name] = above.get(name, 0.0) + max(0.0, s.cpu_cores[name] - background[name]) \
                    * s.measured_s
                visits[name] = visits.get(name, 0.0) + per_second * scale * s.measured_s
    components = {}
    for name, c in cal.arch(arch).components.items():
        if visits.get(name):
            demand = above[name] / visits[name]
        else:
            demand = c.demand_s
            if notes is not None:
                notes.append(f"{arch}.{name}: not measured in this run (no CPU samples or no visits): "
                             f"kept the base calibration's {c.demand_s * 1e3:.4f} ms per visit")
        components[name] = Component(demand, background[name], c.cv)
    return ArchParams(components, {})


def _residuals(steps: list[Step], scenario: Scenario, cal: Calibration,
               arch: str) -> tuple[dict[str, Residual], float]:
    """Per operation, the lognormal that added to the model's latency gives the measured p50/p99,
    and the mean relative misfit of p50 and p99 that remains.

    The requests first; then the microservices' book_e2e on a model that already carries the
    POST's residual (which its end-to-end time includes), so it is not counted twice."""
    rng = np.random.default_rng(0)
    residuals: dict[str, Residual] = {}
    misfits: list[float] = []
    stages = [[op for op in LATENCIES if op != "book_e2e"]]
    if arch != "monolith":  # the monolith's book_e2e is its book request
        stages.append(["book_e2e"])
    for ops in stages:
        level = steps[0].level
        current = cal.with_arch(arch, ArchParams(cal.arch(arch).components, dict(residuals)))
        outcome = simulate(settings_for(_as_measured(scenario, level), current, arch, level, seed=2))
        for op in ops:
            measured50 = [s.p50_ms[op] for s in steps if not math.isnan(s.p50_ms.get(op, math.nan))]
            measured99 = [s.p99_ms[op] for s in steps if not math.isnan(s.p99_ms.get(op, math.nan))]
            modelled = outcome.latencies.get(op)
            if not measured50 or not measured99 or modelled is None or len(modelled) < 20:
                continue
            residuals[op], misfit = fit(modelled * 1e3, statistics.median(measured50),
                                        statistics.median(measured99), rng)
            misfits.append(misfit)
    return residuals, statistics.fmean(misfits) if misfits else math.inf


def _as_measured(scenario: Scenario, level: float, requests: int = CALIBRATION_REQUESTS) -> Scenario:
    """The scenario as it was measured (one host, no what-if; the generator placed as the
    caller's scenario says, see `measured_placement`), simulated long enough for about
    `requests` requests at `level` (requests/s open; users, at about one request/s each, closed)."""
    rate = level
    if scenario.load.model == "closed":
        low, high = scenario.load.think_time_s
        rate = level / max((low + high) / 2 + 0.01, 0.01)  # users over think time (plus ~10 ms)
    duration = max(10.0, requests / max(rate, 1e-9))
    return scenario.model_copy(update={"sim": scenario.sim.model_copy(update={
        "duration_s": duration, "warmup_s": 2.0, "hosts": 1, "replicas": {}, "network_rtt_ms": None,
        "broker_latency_ms": None, "payment_latency": None, "whatif": None})})


def fit_residual(modelled_ms: np.ndarray, p50_ms: float, p99_ms: float,
                 rng: np.random.Generator) -> Residual:
    """The lognormal R (median, sigma) for which modelled + R has the measured p50 and p99
    (a grid over sigma, bisection on the median); zero when the model alone is already slower."""
    return fit(modelled_ms, p50_ms, p99_ms, rng)[0]


def fit(modelled_ms: np.ndarray, p50_ms: float, p99_ms: float,
        rng: np.random.Generator) -> tuple[Residual, float]:
    """`fit_residual` and the misfit left: mean of |relative error| at p50 and at p99."""
    base = np.asarray(modelled_ms, dtype=float)
    if np.quantile(base, 0.5) >= p50_ms:
        return Residual(), (abs(np.quantile(base, 0.5) / p50_ms - 1)
                            + abs(np.quantile(base, 0.99) / p99_ms - 1)) / 2
    normal = rng.standard_normal(5_000)
    sample = rng.choice(base, size=normal.size)
    best: tuple[float, float, float] | None = None
    for sigma in np.linspace(0.0, 2.0, 41):
        shape = np.exp(sigma * normal)
        low, high = 0.0, p50_ms
        for _ in range(30):
            median = (low + high) / 2
            if np.quantile(sample + median * shape, 0.5) < p50_ms:
                low = median
            else:
                high = median
        median = (low + high) / 2
        error = abs(float(np.quantile(sample + median * shape, 0.99)) - p99_ms)
        if best is None or error < best[0]:
            best = (error, median, float(sigma))
    assert best is not None
    return Residual(best[1] / 1e3, best[2]), best[0] / p99_ms / 2
