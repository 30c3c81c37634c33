"""Calibrating the SimPy models from their own simulated measurements recovers the demands they ran on
(the fit runs its simulations in worker processes)."""

from __future__ import annotations

import pytest

from harness.config.loading import load_scenario
from sim import calibrate
from sim.params import COMPONENTS
from tests.support.paths import BASELINE
from tests.support.sim_model import ARCHITECTURES, KNOWN, calibration, run

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_calibrating_from_simulated_measurements_recovers_the_demands_within_5_percent(
        architecture: str) -> None:
    scenario = load_scenario(BASELINE, ["sim.duration_s=40", "sim.warmup_s=2"])
    background = {name: c.background_cores for name, c in KNOWN.arch(architecture).components.items()}
    steps = []
    visits: dict[str, int] = {}
    for i, rate in enumerate((100, 150, 200)):
        outcome = run(scenario, architecture, rate, seed=1 + i)
        for name, n in outcome.visits.items():
            visits[name] = visits.get(name, 0) + n
        steps.append(calibrate.step_from_outcome(outcome, background, step=i))
    assert all(step.keeps_up for step in steps)
    assert min(visits.values()) >= 2_000, visits
    # the starting point is wrong by a factor of two, up for half the components and down for the rest
    wrong = calibration({name: 2.0 if i % 2 else 0.5 for i, name in enumerate(COMPONENTS[architecture])})

    recovered = calibrate.calibrate(steps, scenario, wrong).arch(architecture).components

    errors = {name: recovered[name].demand_s / c.demand_s - 1
              for name, c in KNOWN.arch(architecture).components.items()}
    assert all(abs(e) <= 0.05 for e in errors.values()), {n: f"{e:+.1%}" for n, e in errors.items()}
    for name, cores in background.items():
        assert recovered[name].background_cores == pytest.approx(cores, abs=1e-9), name
