"""A known calibration for the SimPy models' tests, and a run of a model on it."""

from __future__ import annotations

from harness.config.scenario import Scenario
from sim.model import Outcome, settings_for, simulate
from sim.params import COMPONENTS, ArchParams, Calibration, Component

ARCHITECTURES = ("monolith", "microservices")

# Demands (ms per visit) chosen distinct per component, and background CPU (cores) for a few: the
# behaviour tests run on these rather than on the shipped calibration, whose numbers will change.
DEMAND_MS = {"generator": 0.21, "caddy": 0.16, "monolith": 0.35, "postgres": 0.045,
             "payment_provider": 0.27, "booking": 0.12, "inventory": 0.09, "payment": 0.11,
             "notification": 0.07, "query": 0.13, "nats": 0.03}
BACKGROUND = {"postgres": 0.02, "nats": 0.01, "caddy": 0.005, "monolith": 0.01, "query": 0.003}


def calibration(scale: dict[str, float] | None = None) -> Calibration:
    """The test calibration, each demand multiplied by `scale[component]` (default 1)."""
    scale = scale or {}
    return Calibration(
        hop_s=50e-6, broker_persist_s=200e-6, db_commit_s=300e-6,
        architectures={arch: ArchParams({name: Component(DEMAND_MS[name] / 1e3 * scale.get(name, 1.0),
                                                         BACKGROUND.get(name, 0.0))
                                         for name in names})
                       for arch, names in COMPONENTS.items()},
    )


KNOWN = calibration()


def run(scenario: Scenario, architecture: str, level: float, seed: int = 1,
        cal: Calibration = KNOWN) -> Outcome:
    return simulate(settings_for(scenario, cal, architecture, level, seed))
