"""Which results of an earlier run `archbench run` reuses (harness.pipeline.cache), and what each
one depends on: the live audit of an architecture on the code that deploys and probes it and on
the scenario keys that shape its deployment; the engine against queueing theory on sim/ alone.

Every reused result says where it came from (the run that measured it, its revision and date);
one left out says why, and how to measure it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.config.architectures import names, spec_of
from harness.config.scenario import Reuse, Scenario
from harness.pipeline import cache
from harness.pipeline.environment import PACKAGES

LIVE_AUDIT = "live-audit"
LIVE_AUDIT_PATHS = ("apps", "harness", "pyproject.toml")
ENGINE_VALIDATION = "engine-validation"
ENGINE_VALIDATION_PATHS = ("sim",)
ENGINE_PACKAGES = ("simpy", "numpy")
HOW_TO_MEASURE = ("`archbench run --fresh SCENARIO` measures it and keeps it for the next runs")
HOW_TO_AUDIT = ("`archbench audit --scenario SCENARIO` (the live audit alone) or " + HOW_TO_MEASURE)


def live_audit_inputs(scenario: Scenario, architecture: str) -> dict[str, Any]:
    """What of the scenario and the installation one architecture's live audit depends on: how it
    is deployed (dataset, payment latency, workers, the services' settings) and how many
    operations each probe runs. Not the load, the repeats, the SLO or the simulation. The payment
    provider's decline rate is left out: the live audit declines nothing whatever it is."""
    return {
        "architecture": spec_of(architecture).model_dump(mode="json"),
        "dataset": scenario.dataset.model_dump(mode="json"),
        "payment_provider": scenario.payment_provider.model_dump(mode="json",
                                                                 exclude={"decline_rate"}),
        "replicas": scenario.replicas.model_dump(mode="json"),
        "microservices": scenario.microservices.model_dump(mode="json"),
        "samples": scenario.audit.samples,
        "versions": cache.runtime_versions(PACKAGES),
    }


@dataclass
class LivePlan:
    """For each architecture: its live measurements from the cache, or it is measured now, or it
    is left out; and where each one comes from (audit.json `live_origins`)."""

    reused: dict[str, dict[str, Any]] = field(default_factory=dict)
    measure: list[str] = field(default_factory=list)
    origins: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: cache.Source | None = None


def plan_live_audit(scenario: Scenario, *, fresh: bool = False,
                    policy: Reuse | None = None) -> LivePlan:
    """`policy`: instead of the scenario's `audit.live`."""
    policy = scenario.audit.live if policy is None else policy
    plan = LivePlan()
    if policy is False:
        for arch in names():
            plan.origins[arch] = {"source": "off", "reason": "audit.live: false"}
        return plan
    plan.source = cache.source_of(LIVE_AUDIT_PATHS)
    for arch in names():
        entry = None
        if plan.source is not None:
            plan.inputs[arch] = live_audit_inputs(scenario, arch)
            plan.keys[arch] = cache.cache_key(LIVE_AUDIT, plan.source, plan.inputs[arch])
            entry = None if fresh else cache.load(LIVE_AUDIT, plan.keys[arch])
        if entry is not None:
            plan.reused[arch] = entry.payload
            plan.origins[arch] = {"source": "cached", **entry.origin}
        elif policy is True or fresh:
            plan.measure.append(arch)
        else:
            why = ("not a git checkout: nothing is cached" if plan.source is None else
                   "no earlier live audit of this code and these settings in the cache")
            plan.origins[arch] = {"source": "not measured",
                                  "reason": f"audit.live: cached, and {why}; {HOW_TO_AUDIT}"}
    return plan


def remember_live_audit(plan: LivePlan, audit: Mapping[str, Any], run: Path) -> None:
    """Keep what was measured now for the next runs (never outside a git checkout)."""
    if plan.source is None:
        return
    for arch in plan.measure:
        live = audit["architectures"].get(arch, {}).get("live")
        if live is not None:
            cache.store(LIVE_AUDIT, plan.keys[arch], live, source=plan.source, run=run,
                        inputs=plan.inputs[arch])


def engine_validation_rows(policy: Reuse, run: Path, *, fresh: bool, replications: int, seed: int,
                           compute: Callable[[], list[dict[str, Any]]]
                           ) -> tuple[list[dict[str, Any]] | None, dict[str, Any]]:
    """The engine's table against queueing theory and where it comes from; None when it is left
    out. `compute()` makes the table (minutes of CPU): only on a miss, or when `fresh`."""
    if policy is False:
        return None, {"source": "off", "reason": "sim.engine_validation: false"}
    source = cache.source_of(ENGINE_VALIDATION_PATHS)
    inputs = {"replications": replications, "seed": seed,
              "versions": cache.runtime_versions(ENGINE_PACKAGES)}
    key = cache.cache_key(ENGINE_VALIDATION, source, inputs) if source is not None else None
    entry = cache.load(ENGINE_VALIDATION, key) if key is not None and not fresh else None
    if entry is not None:
        return list(entry.payload), {"source": "cached", **entry.origin}
    if policy == "cached" and not fresh:
        why = ("not a git checkout: nothing is cached" if source is None else
               "none in the cache for this sim/ code")
        return None, {"source": "not measured",
                      "reason": f"sim.engine_validation: cached, and {why}; {HOW_TO_MEASURE}"}
    rows = list(compute())
    if source is not None and key is not None:
        cache.store(ENGINE_VALIDATION, key, rows, source=source, run=run, inputs=inputs)
    return rows, {"source": "measured"}
