"""Scenario files: every shipped scenario validates, and each kind of mistake is named by the
dotted path of its key and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.runner import load_plan, plan
from harness.scenario import load_scenario

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
    ("architectures: [monolith, mainframe]\n", "architectures.1: Input should be"),
    ("duration_s: 10\nwarmup_s: 20\n", "warmup_s (20.0) must be shorter than duration_s (10.0)"),
    ("payment_provider:\n  latency: gaussian:1\n", "payment_provider.latency: expected none"),
    ("load:\n  steps: [10, -1]\n", "load.steps: every step must be > 0"),
    ("workload:\n  weights: {checkout: 1}\n", "workload.weights.checkout"),
    ("- just\n- a list\n", "expected a mapping of keys at the top level"),
    ("dataset: {hotels: 3\n", "not valid YAML"),
], ids=["negative-rate", "unknown-key", "wrong-type", "unknown-architecture", "warmup-too-long",
        "bad-latency", "negative-step", "unknown-operation", "not-a-mapping", "broken-yaml"])
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
