"""Scenario files: every shipped scenario validates, and each kind of mistake is named by the
dotted path of its key and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config.errors import HarnessError
from harness.config.loading import load_scenario
from harness.load.plan import load_plan
from harness.pipeline.run import plan

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_scenario_validates(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.architectures
    assert scenario.warmup_s < scenario.duration_s


def test_the_quickstart_compares_both_architectures() -> None:
    assert load_scenario(SCENARIOS / "quickstart.yaml").architectures == ("monolith",
                                                                          "microservices")


@pytest.mark.parametrize(("text", "message"), [
    ("load:\n  rate: -5\n", "load.rate: Input should be greater than 0"),
    ("load:\n  colour: blue\n", "load.colour: unknown key"),
    ("dataset:\n  hotels: many\n", "dataset.hotels: Input should be a valid integer"),
    ("architectures: [monolith, mainframe]\n",
     "architectures.1: unknown architecture 'mainframe'; known: monolith, microservices"),
    ("duration_s: 10\nwarmup_s: 20\n", "warmup_s (20.0) must be shorter than duration_s (10.0)"),
    ("payment_provider:\n  latency: gaussian:1\n", "payment_provider.latency: expected none"),
    ("load:\n  steps: [10, -1]\n", "load.steps: every step must be > 0"),
    ("workload:\n  weights: {checkout: 1}\n", "workload.weights.checkout"),
    ("- just\n- a list\n", "expected a mapping of keys at the top level"),
    ("dataset: {hotels: 3\n", "not valid YAML"),
    ("faults: [{at_s: 1, action: kill, target: paymnt}]\n",
     "faults.0.target: unknown deployable 'paymnt'; known: monolith, postgres"),
    ("faults: [{at_s: 1, action: kill, target: inventory}]\n",
     "faults.0.target: 'inventory' is not part of monolith"),
    ("faults: [{at_s: 1, action: explode, target: monolith}]\n", "faults.0.action: Input should be"),
    ("faults: [{at_s: 1, action: slow, target: payment_provider, duration_s: 2}]\n",
     "faults.0.latency: a slow fault needs a latency"),
    ("faults: [{at_s: 1, action: slow, target: caddy, duration_s: 2, latency: 'fixed:1'}]\n",
     "faults.0: slow applies to the payment_provider only"),
    ("faults: [{at_s: 1, action: pause, target: caddy}]\n", "a pause fault needs duration_s > 0"),
    ("faults: [{at_s: 1, action: kill, target: caddy, latency: 'fixed:1'}]\n",
     "faults.0.latency: applies to slow faults only, not kill"),
    ("faults: [{at_s: 28, action: pause, target: caddy, duration_s: 5}]\n",
     "faults.0: at_s + duration_s (33) is past the end of the load (duration_s 30)"),
    ("faults: [{at_s: 5, action: kill, target: caddy, duration_s: 5},"
     " {at_s: 8, action: pause, target: postgres, duration_s: 1}]\n",
     "faults.1: begins at 8 s while faults.0 (kill caddy) holds until 10 s in the monolith"),
    ("faults: [{at_s: 5, action: restart, target: caddy, duration_s: 5}]\n",
     "faults.0: a restart takes no duration_s"),
    ("faults: [{at_s: 5, action: pause, target: caddy, duration_s: 1, restart: false}]\n",
     "faults.0: restart applies to kill faults only, not pause"),
    ("faults: [{at_s: -1, action: restart, target: caddy}]\n",
     "faults.0.at_s: Input should be greater than or equal to 0"),
], ids=["negative-rate", "unknown-key", "wrong-type", "unknown-architecture", "warmup-too-long",
        "bad-latency", "negative-step", "unknown-operation", "not-a-mapping", "broken-yaml",
        "unknown-deployable", "deployable-not-deployed", "unknown-action", "slow-without-latency",
        "slow-not-the-provider", "pause-without-duration", "latency-on-a-kill", "fault-past-the-end",
        "overlapping-faults", "restart-with-duration", "restart-flag-on-a-pause",
        "negative-fault-time"])
def test_a_bad_scenario_names_the_key_and_what_was_expected(tmp_path: Path, text: str,
                                                            message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)

    with pytest.raises(HarnessError) as error:
        load_scenario(path)

    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_runs_are_interleaved_architecture_by_architecture_within_each_repeat(
        tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("architectures: [monolith, microservices]\nrepeats: 2\n"
                    "load: {steps: [5, 10]}\n")

    order = [(p.repeat, p.level, p.architecture) for p in plan(load_scenario(path))]

    assert order == [(0, 5, "monolith"), (0, 5, "microservices"), (0, 10, "monolith"),
                     (0, 10, "microservices"), (1, 5, "monolith"), (1, 5, "microservices"),
                     (1, 10, "monolith"), (1, 10, "microservices")]


def test_the_load_plan_carries_the_step_level_as_rate_or_users(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("load: {model: closed, steps: [4, 8]}\n")
    scenario = load_scenario(path)

    assert load_plan(scenario, 8)["users"] == 8
    assert load_plan(scenario, 8)["model"] == "closed"


def test_a_fault_applies_to_each_architecture_that_has_its_target(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("architectures: [monolith, microservices]\nfaults:\n"
                    "  - {at_s: 1, action: kill, target: monolith, duration_s: 1}\n"
                    "  - {at_s: 3, action: restart, target: postgres}\n"
                    "  - {at_s: 5, action: kill, target: nats, duration_s: 1, restart: false}\n")
    # the monolith's kill and the nats kill overlap in time, but never in the same run
    kill_monolith, restart_postgres, kill_nats = load_scenario(path).faults
    assert kill_monolith.applies_to("monolith") and not kill_monolith.applies_to("microservices")
    assert kill_nats.applies_to("microservices") and not kill_nats.applies_to("monolith")
    assert restart_postgres.applies_to("monolith") and restart_postgres.applies_to("microservices")
    assert kill_monolith.end_s == 2 and restart_postgres.end_s == 3
    assert kill_nats.end_s == float("inf")  # never restarted: down until the end of the load
