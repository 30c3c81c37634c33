"""The SimPy models of both architectures: reproducible for a seed, fitting a residual to measured
percentiles (the calibration round trip, in worker processes, is in tests/integration/test_sim_model.py),
answering every operation of the mix, consistent with the services' manifests, obeying
Little's law in a closed loop, and responding to cores and network latency in the right direction."""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pytest

from harness.config.loading import load_scenario
from harness.config.scenario import Scenario
from sim import calibrate, model, params
from sim.model import CONSUMERS, EMITS, SERVICES, Outcome
from sim.params import OPERATIONS
from sim.study import levels
from tests.support.paths import BASELINE, ROOT
from tests.support.sim_model import ARCHITECTURES, calibration, run

MANIFESTS = ROOT / "apps" / "microservices"


def baseline(*overrides: str) -> Scenario:
    return load_scenario(BASELINE, ["sim.duration_s=5", "sim.warmup_s=1", *overrides])


def p50_ms(outcome: Outcome, operation: str) -> float:
    """The median, or infinity when no request of `operation` completed in the measured period."""
    value = outcome.quantile_ms(operation, 0.5)
    return math.inf if math.isnan(value) else value


# --- reproducibility ---------------------------------------------------------------------------


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_a_seed_reproduces_a_simulation_exactly_and_another_seed_differs(architecture: str) -> None:
    scenario = baseline()
    shipped = params.default()
    first = run(scenario, architecture, 40, seed=7, cal=shipped)
    again = run(scenario, architecture, 40, seed=7, cal=shipped)
    other = run(scenario, architecture, 40, seed=8, cal=shipped)

    assert first.latencies.keys() == again.latencies.keys()
    for operation, values in first.latencies.items():
        np.testing.assert_array_equal(values, again.latencies[operation], err_msg=operation)
    assert first.cpu_s == again.cpu_s
    assert first.visits == again.visits
    assert first.events == again.events
    assert len(first.latencies["book"]) > 0
    assert not all(np.array_equal(values, other.latencies[operation])
                   for operation, values in first.latencies.items())


# --- residuals ---------------------------------------------------------------------------------


def test_a_fitted_residual_added_to_the_model_reproduces_the_measured_p50_and_p99() -> None:
    rng = np.random.default_rng(0)
    modelled = rng.gamma(2.0, 2.0, 20_000)  # ms
    measured = modelled + 5.0 * np.exp(0.6 * rng.standard_normal(modelled.size))
    p50, p99 = np.quantile(measured, [0.5, 0.99])

    residual = calibrate.fit_residual(modelled, float(p50), float(p99), np.random.default_rng(1))

    check = np.random.default_rng(2)
    draws = 200_000
    with_residual = check.choice(modelled, draws) + residual.median_s * 1e3 * np.exp(
        residual.sigma * check.standard_normal(draws))
    got50, got99 = np.quantile(with_residual, [0.5, 0.99])
    assert got50 == pytest.approx(p50, rel=0.02)
    assert got99 == pytest.approx(p99, rel=0.10)


def test_no_residual_is_fitted_when_the_model_alone_is_slower_than_measured() -> None:
    modelled = np.random.default_rng(0).gamma(4.0, 2.5, 5_000)  # median about 9 ms
    residual = calibrate.fit_residual(modelled, 5.0, 20.0, np.random.default_rng(1))
    assert (residual.median_s, residual.sigma) == (0.0, 0.0)


# --- the microservices model against the services' manifests ----------------------------------


def _manifests() -> dict[str, dict]:
    return {path.parent.name: tomllib.loads(path.read_text())
            for path in sorted(MANIFESTS.glob("*/manifest.toml"))}


def test_the_model_has_the_services_that_have_manifests() -> None:
    assert set(_manifests()) == set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_consumes_and_emits_in_the_model_what_its_manifest_declares(service: str) -> None:
    manifest = _manifests()[service]
    subscriptions = {f"{producer}.events.{event}" for consumer, producer, events, _ in CONSUMERS
                     if consumer == service for event in events}
    emits = {f"{service}.events.{event}" for event in EMITS.get(service, ())}

    assert subscriptions == set(manifest["consumes"])
    assert emits == set(manifest["emits"])


def test_the_microservices_model_publishes_only_events_its_services_declare(
        monkeypatch: pytest.MonkeyPatch) -> None:
    published: set[tuple[str, str]] = set()
    emit = model.Microservices.emit

    def recording(self: model.Microservices, proc: model.Proc, type_: str, booking: model.Booking) -> None:
        published.add((proc.name, type_))
        emit(self, proc, type_, booking)

    monkeypatch.setattr(model.Microservices, "emit", recording)
    run(baseline("payment_provider.decline_rate=0.3"), "microservices", 40)

    assert {service for service, _ in published} == set(EMITS)
    assert all(event in EMITS[service] for service, event in published), published


# --- the workload mix ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def at_40() -> dict[str, Outcome]:
    scenario = baseline("sim.duration_s=10")
    return {arch: run(scenario, arch, 40) for arch in ARCHITECTURES}


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_both_models_answer_every_operation_of_the_mix(at_40: dict[str, Outcome], architecture: str) -> None:
    counts = {op: len(at_40[architecture].latencies[op]) for op in (*OPERATIONS, "book_e2e")}
    assert all(n > 0 for n in counts.values()), counts


def test_a_microservices_booking_completes_end_to_end_after_its_202(at_40: dict[str, Outcome]) -> None:
    latencies = at_40["microservices"].latencies
    assert np.median(latencies["book_e2e"]) > np.median(latencies["book"])


def test_the_monolith_answers_a_booking_with_its_terminal_status(at_40: dict[str, Outcome]) -> None:
    latencies = at_40["monolith"].latencies
    np.testing.assert_array_equal(latencies["book_e2e"], latencies["book"])


# --- load models, cores and the network -------------------------------------------------------


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_a_closed_loop_obeys_littles_law(architecture: str) -> None:
    # short think times and a 5 ms round trip make the response time a visible share of the cycle
    scenario = load_scenario(BASELINE, ["load.model=closed", "load.users=5", "load.think_time_s=[0.05, 0.15]",
                                        "sim.network_rtt_ms=5", "sim.duration_s=20", "sim.warmup_s=2"])
    users = levels(scenario)[0]
    outcome = run(scenario, architecture, users)

    # a user's cycle ends when its request does: for a booking, when the terminal status is seen
    cycles = np.concatenate([values for op, values in outcome.latencies.items() if op != "book"])
    response = float(cycles.mean())
    think = sum(scenario.load.think_time_s) / 2
    assert response > 0.2 * think
    assert outcome.throughput == pytest.approx(users / (think + response), rel=0.05)


def test_more_cores_keep_up_with_a_rate_two_cores_cannot() -> None:
    rate = 900  # above what two cores serve with the test calibration
    two = run(baseline("sim.cores_per_host=2"), "microservices", rate)
    eight = run(baseline("sim.cores_per_host=8"), "microservices", rate)

    assert two.throughput < 0.95 * rate
    assert eight.throughput >= 0.95 * rate
    assert eight.throughput > two.throughput
    assert math.isfinite(p50_ms(eight, "book_e2e"))
    assert p50_ms(eight, "book_e2e") < p50_ms(two, "book_e2e")


def test_a_slower_network_costs_the_microservices_more_than_the_monolith() -> None:
    def slowdown(architecture: str, operation: str) -> float:
        fast = run(baseline("sim.duration_s=10", "sim.network_rtt_ms=0.1"), architecture, 20)
        slow = run(baseline("sim.duration_s=10", "sim.network_rtt_ms=10"), architecture, 20)
        return p50_ms(slow, operation) - p50_ms(fast, operation)

    monolith = slowdown("monolith", "book")
    assert monolith > 0
    assert slowdown("microservices", "book_e2e") > monolith


def test_a_generator_on_its_own_host_leaves_the_system_its_cores() -> None:
    # a costly generator (1.7 ms a request): on the system's one core it takes the CPU the
    # system needs and the rate is not kept up; on a host of its own (as a pinned run had it)
    # the same core serves the rate
    heavy = calibration({"generator": 8.0})
    rate = 450
    shared = run(baseline("sim.cores_per_host=1", "sim.duration_s=10"), "monolith", rate, cal=heavy)
    apart = run(baseline("sim.cores_per_host=1", "sim.duration_s=10", "sim.generator_on_host=false",
                         "sim.generator_cores=4"), "monolith", rate, cal=heavy)
    assert shared.throughput < 0.95 * rate <= apart.throughput
    assert p50_ms(apart, "search_availability") < p50_ms(shared, "search_availability")


@pytest.mark.parametrize(("environment", "expected"), [
    ({"cores": 2, "cpu_split": {"pinned": True, "generator": [1], "system": [0]}},
     {"cores_per_host": 1.0, "generator_on_host": False, "generator_cores": 1.0}),
    ({"cores": 8, "cpu_split": {"pinned": True, "generator": [6, 7], "system": [0, 1, 2, 3, 4, 5]}},
     {"cores_per_host": 6.0, "generator_on_host": False, "generator_cores": 2.0}),
    ({"cores": 2, "cpu_split": {"pinned": False, "generator": None, "system": None}},
     {"cores_per_host": 2.0, "generator_on_host": True, "generator_cores": None}),
    ({}, {"cores_per_host": 3.0, "generator_on_host": True, "generator_cores": None}),
])
def test_a_run_is_modelled_on_the_cpus_it_was_given(environment: dict, expected: dict) -> None:
    assert calibrate.measured_placement(environment, 3.0) == expected
