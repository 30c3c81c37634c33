"""What `archbench run` reuses from an earlier run: a cached result is found again only for the same
code (the git trees of what it reads, and the same uncommitted changes) and the same scenario keys
it depends on; the engine check and the live audit take it, measure, or leave it out as their
policy says, and say where each result came from. No git here: the code's state is given."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.config.scenario import Scenario
from harness.deploy.deployment import PROJECT_ROOT
from harness.pipeline import cache, reuse

CLEAN = cache.Source("a" * 40, (("apps", "t-apps-1"), ("harness", "t-harness-1")), None)


def _scenario(**changes: Any) -> Scenario:
    base: dict[str, Any] = {"architectures": ["monolith", "microservices"],
                            "dataset": {"hotels": 50}, "payment_provider": {"latency": "fixed:0.005"},
                            "load": {"rate": 20}, "duration_s": 25, "repeats": 2}
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = base
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return Scenario.model_validate(base)


def _audit_key(scenario: Scenario, source: cache.Source = CLEAN,
               architecture: str = "microservices") -> str:
    return cache.cache_key(reuse.LIVE_AUDIT, source,
                           reuse.live_audit_inputs(scenario, architecture))


def test_the_same_code_and_settings_give_the_same_key() -> None:
    assert _audit_key(_scenario()) == _audit_key(_scenario())


def test_a_change_to_the_code_it_reads_changes_the_key() -> None:
    changed = cache.Source("b" * 40, (("apps", "t-apps-2"), ("harness", "t-harness-1")), None)
    assert _audit_key(_scenario(), changed) != _audit_key(_scenario())


def test_a_commit_that_leaves_the_code_it_reads_alone_keeps_the_key() -> None:
    readme_only = cache.Source("c" * 40, CLEAN.trees, None)
    assert _audit_key(_scenario(), readme_only) == _audit_key(_scenario())


def test_uncommitted_changes_change_the_key_and_each_diff_has_its_own() -> None:
    dirty = cache.Source(CLEAN.revision, CLEAN.trees, "diff-1")
    dirtier = cache.Source(CLEAN.revision, CLEAN.trees, "diff-2")
    keys = {_audit_key(_scenario(), s) for s in (CLEAN, dirty, dirtier)}
    assert len(keys) == 3
    assert "+dirty" in dirty.label and "+dirty" not in CLEAN.label


@pytest.mark.parametrize("key, value", [
    ("dataset.hotels", 51), ("payment_provider.latency", "fixed:0.02"),
    ("payment_provider.seed", 3), ("replicas.monolith_workers", 4),
    ("microservices.ack_wait_s", 5.0), ("audit.samples", 20),
])
def test_a_scenario_key_the_live_audit_reads_changes_its_key(key: str, value: Any) -> None:
    assert _audit_key(_scenario(**{key: value})) != _audit_key(_scenario())


@pytest.mark.parametrize("key, value", [
    ("load.rate", 40), ("duration_s", 60), ("repeats", 3), ("slo.p99_ms", 100),
    ("sim.replications", 10), ("payment_provider.decline_rate", 0.3), ("name", "other"),
    ("workload.weights", {"book": 1}), ("audit.live", "cached"),
])
def test_a_scenario_key_the_live_audit_does_not_read_keeps_its_key(key: str, value: Any) -> None:
    assert _audit_key(_scenario(**{key: value})) == _audit_key(_scenario())


def test_each_architecture_and_each_step_has_its_own_key() -> None:
    assert _audit_key(_scenario(), architecture="monolith") != _audit_key(_scenario())
    assert cache.cache_key("engine-validation", CLEAN, {}) != cache.cache_key("live-audit", CLEAN, {})


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(cache, "source_of", lambda paths, root=None: CLEAN)
    return tmp_path / "cache"


def test_a_stored_entry_is_found_with_where_it_was_measured(cache_dir: Path) -> None:
    origin = cache.store("live-audit", "k1", {"runtime": 1}, source=CLEAN,
                         run=PROJECT_ROOT / "results" / "a", inputs={})

    entry = cache.load("live-audit", "k1")

    assert entry is not None and entry.payload == {"runtime": 1}
    # the run as a result file may name it: relative to the project, never this machine's path
    assert entry.origin == origin and entry.origin["run"] == "results/a"
    assert entry.origin["revision"] == "a" * 12
    assert cache.load("live-audit", "k2") is None


def test_an_entry_that_kept_a_machine_path_gives_only_the_run_name(cache_dir: Path) -> None:
    cache.store("live-audit", "k1", {}, source=CLEAN, run=Path("/elsewhere/runs/b"), inputs={})
    written = cache_dir / "live-audit" / "k1.json"
    raw = json.loads(written.read_text())
    assert raw["origin"]["run"] == "b"
    raw["origin"]["run"] = "/home/someone/archbench/results/b"  # as older versions kept it
    written.write_text(json.dumps(raw))
    entry = cache.load("live-audit", "k1")
    assert entry is not None and entry.origin["run"] == "b"


def test_an_unreadable_entry_is_measured_again(cache_dir: Path) -> None:
    (cache_dir / "live-audit").mkdir(parents=True)
    (cache_dir / "live-audit" / "k1.json").write_text('{"payload": ')
    assert cache.load("live-audit", "k1") is None


def _engine(policy: Any, *, fresh: bool = False) -> tuple[Any, dict[str, Any], int]:
    calls = []

    def compute() -> list[dict[str, Any]]:
        calls.append(1)
        return [{"case": "M/M/1", "inside_ci": True}]

    rows, origin = reuse.engine_validation_rows(policy, Path("/runs/x"), fresh=fresh,
                                                replications=10, seed=1, compute=compute)
    return rows, origin, len(calls)


def test_the_engine_check_is_made_once_then_reused_until_asked_fresh(cache_dir: Path) -> None:
    assert _engine(True)[1:] == ({"source": "measured"}, 1)
    rows, origin, calls = _engine(True)
    assert calls == 0 and rows == [{"case": "M/M/1", "inside_ci": True}]
    assert origin["source"] == "cached" and origin["run"] == "x"
    assert _engine(True, fresh=True)[1:] == ({"source": "measured"}, 1)


def test_a_cached_only_engine_check_is_left_out_with_the_way_to_make_it(cache_dir: Path) -> None:
    rows, origin, calls = _engine("cached")
    assert rows is None and calls == 0
    assert origin["source"] == "not measured" and "archbench run --fresh" in origin["reason"]
    _engine(True)
    assert _engine("cached")[1]["source"] == "cached"
    assert _engine(False)[1:] == ({"source": "off", "reason": "sim.engine_validation: false"}, 0)


def test_a_cached_only_live_audit_measures_nothing_until_an_earlier_run_did(
        cache_dir: Path) -> None:
    scenario = _scenario(**{"audit.live": "cached"})
    plan = reuse.plan_live_audit(scenario)
    assert plan.measure == [] and plan.reused == {}
    assert {o["source"] for o in plan.origins.values()} == {"not measured"}

    measured = reuse.plan_live_audit(scenario, fresh=True)
    assert measured.measure == ["monolith", "microservices"]
    reuse.remember_live_audit(measured, {"architectures": {
        a: {"live": {"runtime": a}} for a in measured.measure}}, Path("/runs/first"))

    again = reuse.plan_live_audit(scenario)
    assert again.measure == [] and again.reused["monolith"] == {"runtime": "monolith"}
    assert again.origins["microservices"]["source"] == "cached"
    assert again.origins["microservices"]["run"] == "first"
    # a run of other settings finds nothing of it
    assert reuse.plan_live_audit(_scenario(**{"audit.live": "cached",
                                              "dataset.hotels": 7})).reused == {}
