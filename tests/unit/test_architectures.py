"""The registry of architectures: built-in entries, extra ones from a file, and what each layer
reads of it (deployables from the manifests, the checker's tables against the declared ones)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import architectures
from harness.config.architectures import ENV_VAR, registry, spec_of
from harness.config.errors import HarnessError
from harness.config.loading import load_scenario
from harness.config.scenario import Scenario
from harness.verify.readers import tables_read

SOLO = """\
[monolith-solo]
app = "monolith"
kind = "single"
manifests = "apps/monolith"
workers = 1
"""


@pytest.fixture
def extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "architectures.toml"
    path.write_text(SOLO)
    monkeypatch.setenv(ENV_VAR, str(path))
    return path


def test_the_built_in_architectures_are_the_monolith_and_the_microservices() -> None:
    assert list(registry()) == ["monolith", "microservices"]
    assert spec_of("monolith").deployables == ("monolith", "postgres", "payment_provider", "caddy")
    assert set(spec_of("microservices").components) == {
        "booking", "inventory", "payment", "notification", "query"}
    assert "nats" in spec_of("microservices").deployables


def test_an_unknown_architecture_names_the_known_ones() -> None:
    with pytest.raises(HarnessError, match="unknown architecture 'mainframe'; known: monolith, "
                                           "microservices"):
        spec_of("mainframe")


def test_a_registry_file_adds_an_architecture_a_scenario_can_name(extra: Path,
                                                                   tmp_path: Path) -> None:
    solo = spec_of("monolith-solo")
    assert (solo.kind, solo.app, solo.workers, solo.sim_model, solo.reader) == (
        "single", "monolith", 1, "monolith", "single")
    scenario = tmp_path / "s.yaml"
    scenario.write_text("architectures: [monolith, monolith-solo]\n"
                        "faults: [{at_s: 1, action: kill, target: monolith}]\n")
    loaded = load_scenario(scenario)
    assert loaded.architectures == ("monolith", "monolith-solo")
    assert loaded.faults[0].applies_to("monolith-solo")


@pytest.mark.parametrize(("text", "message"), [
    ('[solo]\napp = "monolith"\nkind = "single"\nmanifests = "apps/monolith"\ncolour = 1\n',
     "solo.colour: unknown key"),
    ('[solo]\napp = "monolith"\nkind = "cluster"\nmanifests = "apps/monolith"\n', "solo.kind: "),
    ('[monolith]\napp = "monolith"\nkind = "single"\nmanifests = "apps/monolith"\n',
     "'monolith' is already registered"),
    ("solo = 3\n", "solo: expected a table of keys"),
])
def test_a_bad_registry_file_names_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    monkeypatch.setenv(ENV_VAR, str(path))
    with pytest.raises(HarnessError, match=message):
        registry()


@pytest.mark.parametrize("name", ["monolith", "microservices", "monolith-solo"])
def test_the_checker_reads_only_tables_the_manifests_declare(extra: Path, name: str) -> None:
    spec = spec_of(name)
    declared = spec.declared_tables()
    for database, tables in tables_read(spec).items():
        assert database in declared, f"{name}: the checker reads a database no manifest names"
        assert set(tables) <= set(declared[database]), (
            f"{name}: the checker reads {set(tables) - set(declared[database])} from {database}")


def test_every_registered_architecture_has_a_reader_and_manifests(extra: Path) -> None:
    for spec in architectures.registry().values():
        assert spec.manifest_files(), spec.name
        assert tables_read(spec), spec.name


def test_an_extra_architecture_is_simulated_by_its_model_with_its_own_workers(extra: Path) -> None:
    from sim.model import settings_for
    from tests.support.sim_model import KNOWN

    scenario = Scenario(architectures=("monolith-solo",), replicas={"monolith_workers": 4})
    solo = settings_for(scenario, KNOWN, "monolith-solo", 10.0, seed=1)
    assert (solo.system, solo.workers) == ("monolith", 1)
    assert settings_for(scenario, KNOWN, "monolith", 10.0, seed=1).workers == 4
