"""The scenario's `cpus` key: the default split on any machine, `off`, sets the scenario names, and
each mistake (a CPU the machine lacks, overlapping sets, no CPU left) named by its key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import cpus as cpus_module
from harness.config.cpus import Cpus, cpu_split, describe_cpus
from harness.config.errors import HarnessError
from harness.config.loading import load_scenario


@pytest.fixture
def four_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpus_module, "available_cpus", lambda: frozenset({0, 1, 2, 3}))
    monkeypatch.setattr(cpus_module, "can_pin", lambda: True)


def _scenario(tmp_path: Path, text: str) -> Cpus:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return load_scenario(path).cpus


def test_by_default_the_generator_gets_the_last_cpu_and_the_system_all_the_others(
        four_cpus: None, tmp_path: Path) -> None:
    split = cpu_split(_scenario(tmp_path, "name: x\n"))

    assert split.pinned
    assert split.generator == {3} and split.system == {0, 1, 2}
    assert split.to_json() == {"pinned": True, "generator": [3], "system": [0, 1, 2],
                               "note": "default: the generator on the last CPU, the system on "
                                       "the others"}


@pytest.mark.parametrize("text", ["cpus: off\n", "cpus: false\n", "cpus: {pin: false}\n"])
def test_cpus_off_pins_nothing_and_says_so(four_cpus: None, tmp_path: Path, text: str) -> None:
    split = cpu_split(_scenario(tmp_path, text))

    assert not split.pinned and split.generator is None and split.system is None
    assert "cpus: off" in split.note


def test_the_scenario_can_name_both_sets(four_cpus: None, tmp_path: Path) -> None:
    split = cpu_split(_scenario(tmp_path, "cpus: {generator: [0], system: [2, 3]}\n"))

    assert split.generator == {0} and split.system == {2, 3}  # CPU 1 left to the rest of the machine


def test_a_set_left_out_is_every_other_cpu(four_cpus: None, tmp_path: Path) -> None:
    assert cpu_split(_scenario(tmp_path, "cpus: {generator: [0, 1]}\n")).system == {2, 3}
    assert cpu_split(_scenario(tmp_path, "cpus: {system: [1]}\n")).generator == {0, 2, 3}


def test_the_resolved_scenario_written_to_a_run_folder_reads_back_the_same(
        four_cpus: None, tmp_path: Path) -> None:
    import yaml

    original = load_scenario(None, ["cpus={generator: [3], system: [0, 1]}"])
    path = tmp_path / "resolved.yaml"
    path.write_text(yaml.safe_dump(original.model_dump(mode="json")))

    assert load_scenario(path).cpus == original.cpus


@pytest.mark.parametrize(("text", "message"), [
    ("cpus: {generator: [7]}\n", "cpus.generator: CPU 7 is not available on this machine (CPUs 0-3)"),
    ("cpus: {system: [0, 9, 10]}\n", "cpus.system: CPU 9-10 is not available"),
    ("cpus: {generator: [1, 2], system: [2, 3]}\n",
     "cpus: generator and system overlap on CPU 2: the generator needs CPUs of its own"),
    ("cpus: {generator: [1, 1]}\n", "cpus.generator: a CPU is listed twice"),
    ("cpus: {generator: []}\n", "cpus.generator: Tuple should have at least 1 item"),
    ("cpus: {system: [0, 1, 2, 3]}\n",
     "cpus: system takes every CPU of this machine (0-3): none is left for the generator"),
    ("cpus: {generator: [0], colour: red}\n", "cpus.colour: unknown key"),
    ("cpus: {pin: false, generator: [1]}\n", "cpus: pin: false takes no generator or system set"),
    ("cpus: sometimes\n", "cpus: expected off, or {generator: [CPU, ...], system: [CPU, ...]}"),
], ids=["missing-cpu", "missing-cpus", "overlap", "twice", "empty", "nothing-left", "unknown-key",
        "off-with-a-set", "not-a-split"])
def test_a_bad_split_names_the_key_and_why(four_cpus: None, tmp_path: Path, text: str,
                                           message: str) -> None:
    with pytest.raises(HarnessError) as error:
        _scenario(tmp_path, text)

    assert message in str(error.value)


def test_a_machine_with_one_cpu_is_not_pinned_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpus_module, "available_cpus", lambda: frozenset({0}))
    monkeypatch.setattr(cpus_module, "can_pin", lambda: True)

    split = cpu_split(Cpus())

    assert not split.pinned and "nothing to split" in split.note


def test_a_platform_without_sched_setaffinity_is_not_pinned_and_says_why(
        four_cpus: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpus_module, "can_pin", lambda: False)

    split = cpu_split(Cpus(generator=(3,)))

    assert not split.pinned and "os.sched_setaffinity" in split.note
    assert split.to_json()["generator"] is None


def test_cpu_lists_read_as_the_kernel_writes_them() -> None:
    assert describe_cpus(frozenset({0, 1, 2, 3, 5, 7, 8})) == "0-3,5,7-8"
    assert describe_cpus((4,)) == "4"

