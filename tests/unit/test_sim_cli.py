"""`archbench sim`'s `--set` overrides reach the scenario or fail with a one-line message naming the key
(the command itself runs in tests/integration/test_sim_cli.py)."""

from __future__ import annotations

import pytest

from harness.config.errors import HarnessError
from harness.config.loading import load_scenario
from sim.errors import SimError
from sim.study import variants
from tests.support.paths import BASELINE

# --- --set overrides ----------------------------------------------------------------------------


def test_overrides_reach_the_scenario() -> None:
    scenario = load_scenario(BASELINE, ["sim.cores_per_host=8", "load.steps=[10, 20]"])
    assert scenario.sim.cores_per_host == 8
    assert scenario.load.steps == (10, 20)
    assert load_scenario(BASELINE).sim.cores_per_host != 8


@pytest.mark.parametrize(("override", "expected"), [
    ("sim.coress=2", ["sim.coress", "unknown key"]),
    ("sim.cores_per_host=-1", ["sim.cores_per_host", "greater than 0"]),
    ("sim.hosts", ["sim.hosts", "KEY=VALUE"]),
    ("seed.x=1", ["seed is a value"]),
    ("sim.rates=[1, 2", ["sim.rates", "not valid YAML"]),
    ("sim.payment_latency=gauss:1", ["sim.payment_latency", "lognormal"]),
    ("sim.replicas={gateway: 2}", ["sim.replicas.gateway"]),
], ids=["unknown-key", "bad-value", "not-key-value", "through-a-value", "invalid-yaml", "bad-latency",
        "unknown-service"])
def test_a_bad_override_is_named_on_one_line(override: str, expected: list[str]) -> None:
    with pytest.raises(HarnessError) as raised:
        load_scenario(BASELINE, [override])
    message = str(raised.value)
    assert "\n" not in message
    for text in expected:
        assert text in message


def test_a_whatif_value_the_schema_rejects_names_the_whatif() -> None:
    scenario = load_scenario(BASELINE, ["sim.whatif={parameter: sim.hosts, values: [2, 0]}"])
    with pytest.raises(SimError) as raised:
        variants(scenario)
    message = str(raised.value)
    assert "\n" not in message
    assert "sim.whatif" in message
    assert "sim.hosts=0" in message


def test_a_whatif_over_an_unknown_key_names_the_key() -> None:
    scenario = load_scenario(BASELINE, ["sim.whatif={parameter: sim.hostz, values: [2]}"])
    with pytest.raises(SimError, match=r"sim\.whatif.*sim\.hostz.*unknown key"):
        variants(scenario)


def test_whatif_variants_carry_each_value() -> None:
    scenario = load_scenario(BASELINE, ["sim.whatif={parameter: sim.network_rtt_ms, values: [0.1, 5]}"])
    found = variants(scenario)
    assert [label for label, _ in found] == ["sim.network_rtt_ms=0.1", "sim.network_rtt_ms=5"]
    assert [variant.sim.network_rtt_ms for _, variant in found] == [0.1, 5]
    assert all(variant.sim.whatif is None for _, variant in found)
