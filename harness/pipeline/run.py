"""`archbench run`: deploy → warm up → load → collect → tear down, for every architecture, repeat
and load step, interleaved (A B A B ...) so that drift on a shared machine hits both alike.

The run folder is valid at every moment: run.json says `incomplete` until the last run is
collected, each per-run folder is written as its data arrives, and a Ctrl-C tears the current
deployment down and leaves the folder marked incomplete with whatever was measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from harness.config.architectures import spec_of
from harness.config.cpus import cpu_split
from harness.config.errors import HarnessError
from harness.config.loading import load_scenario
from harness.config.scenario import Architecture, Scenario
from harness.deploy.deployment import PROJECT_ROOT, Deployment, deployed, dump, preflight
from harness.deploy.footprint import overhead
from harness.deploy.metrics import Sampler
from harness.deploy.pinning import affinities
from harness.deploy.supervisor import ManagedProcess
from harness.load.faults import BACKLOG_FILE, BacklogSampler, Injector
from harness.load.plan import load_plan, measured_window
from harness.pipeline.environment import environment, now
from harness.pipeline.steps import audit, build_report, judge, simulate
from harness.pipeline.timings import Lap, Timings
from harness.results.files import write_atomic, write_json_atomic
from harness.results.provenance import portable
from harness.verify.readlag import LAG_FILE, lag_timeline, read_lag, write_lag_timeline

IDLE_SETTLE_S = 1.0  # after the deployment reports healthy, before idle CPU is measured
IDLE_S = 3.0
QUIESCENCE_S = 60.0  # how long the invariant check waits for in-flight work, beyond the ack wait


@dataclass(frozen=True)
class Planned:
    architecture: Architecture
    repeat: int
    step: int
    level: float

    @property
    def path(self) -> str:
        return f"runs/{self.architecture}/r{self.repeat}/s{self.step}"


def plan(scenario: Scenario) -> list[Planned]:
    """Every run, interleaved: for each repeat and step, each architecture in turn."""
    return [
        Planned(arch, repeat, step, level)
        for repeat in range(scenario.repeats)
        for step, level in enumerate(scenario.load.levels())
        for arch in scenario.architectures
    ]


def default_out(scenario: Scenario) -> Path:
    return Path.cwd() / "results" / f"{scenario.name}-{time.strftime('%Y%m%d-%H%M%S')}"


def run(scenario_path: Path, out: Path | None, console: Console, *, fresh: bool = False) -> Path:
    """The whole run into `out`; `fresh`: measure the live audit and check the simulation engine
    now, even if an earlier run of the same code and settings did (harness.pipeline.reuse)."""
    timings = Timings()
    scenario = load_scenario(scenario_path)
    out = out or default_out(scenario)
    if out.exists():
        raise HarnessError(f"run folder {out} already exists; choose another with --out")
    for architecture in scenario.architectures:
        preflight(architecture)
    runs = plan(scenario)
    out.mkdir(parents=True)
    (out / "scenario.yaml").write_text(
        yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False))
    (out / "environment.json").write_text(json.dumps(environment(cpu_split(scenario.cpus)), indent=2))
    state: dict[str, Any] = {
        "status": "incomplete", "scenario": scenario.name, "scenario_file": portable(scenario_path),
        "started_at": now(), "finished_at": None, "warmup_s": scenario.warmup_s,
        "duration_s": scenario.duration_s, "runs": [],
        "planned": [{"architecture": p.architecture, "repeat": p.repeat, "step": p.step,
                     "level": p.level, "path": p.path} for p in runs],
        "timings": timings.entries,
    }
    timings.add("setup", timings.elapsed_s)
    timings.changed = lambda: _write_state(out, state)  # run.json holds every step as it ends
    progress = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                        console=console, transient=False)
    try:
        with progress:
            overall = progress.add_task(f"{scenario.name}: {len(runs)} runs", total=len(runs))
            for planned in runs:
                run_one(scenario, planned, out / planned.path, progress, timings.laps(planned.path))
                state["runs"].append({"architecture": planned.architecture,
                                      "repeat": planned.repeat, "step": planned.step,
                                      "level": planned.level, "path": planned.path})
                _write_state(out, state)
                progress.advance(overall)
        state["status"] = "complete"
        _write_state(out, state)
        if scenario.sim.enabled:
            with timings.step("simulation"):
                simulate(out, console, fresh=fresh)
        if scenario.audit.enabled:
            with timings.step("audit"):
                audit(out, scenario, console, fresh=fresh)
            with timings.step("scorecard"):
                judge(out, console)
    except BaseException:
        with contextlib.suppress(Exception):  # best effort: the data is what matters
            build_report(out, console)
        raise
    finally:
        state["finished_at"] = now()
        _write_state(out, state)
    with timings.step("report"):
        build_report(out, console)  # a complete run without its report is an error worth seeing
    state["wall_s"] = round(timings.elapsed_s, 1)
    _write_state(out, state)
    return out



def run_one(scenario: Scenario, planned: Planned, folder: Path, progress: Progress,
            laps: Lap) -> None:
    folder.mkdir(parents=True)
    label = f"{planned.architecture} r{planned.repeat} s{planned.step} ({planned.level:g})"
    phase = progress.add_task(f"{label}: deploying", total=None)
    info: dict[str, Any] = {
        "architecture": planned.architecture, "repeat": planned.repeat, "step": planned.step,
        "model": scenario.load.model,
        "offered_rate": planned.level if scenario.load.model == "open" else None,
        "users": int(planned.level) if scenario.load.model == "closed" else None,
        "measured_from": None, "measured_to": None, "idle_from": None, "idle_to": None,
        "status": "incomplete",
    }
    write_json_atomic(folder / "info.json", info)
    try:
        with deployed(planned.architecture, scenario, root=folder / "deployment") as dep:
            laps.lap("deploy")
            write_json_atomic(folder / "overhead.json", overhead(dep))
            components = {p.name: p.pid for p in dep.processes}
            plan_path = folder / "plan.json"
            faults = [(i, f) for i, f in enumerate(scenario.faults)
                      if f.applies_to(planned.architecture)]
            write_json_atomic(plan_path, {**load_plan(scenario, planned.level),
                                    "trace_requests": bool(faults)})

            def restarted(proc: ManagedProcess) -> None:
                components[proc.name] = proc.pid
                write_atomic(dep.root / "deployment.json", dump(dep))

            monitor = dep.endpoints.get("nats_monitor") if faults else None
            with contextlib.ExitStack() as under_load:
                under_load.enter_context(Sampler(folder / "metrics.csv", lambda: components))
                # a few seconds with no load: each component's background CPU, which the
                # simulation's calibration separates from the CPU that requests cost
                progress.update(phase, description=f"{label}: measuring idle CPU")
                time.sleep(IDLE_SETTLE_S)
                idle_from = time.time()
                time.sleep(IDLE_S)
                info.update(idle_from=idle_from, idle_to=time.time())
                laps.lap("idle CPU")
                progress.update(phase, description=f"{label}: warm-up and load",
                                total=scenario.duration_s, completed=0)
                if monitor is not None:
                    under_load.enter_context(BacklogSampler(monitor, folder / BACKLOG_FILE))
                injector = under_load.enter_context(Injector(
                    dep, faults, folder / "load" / "started.json", folder,
                    normal_latency=scenario.payment_provider.latency, on_restart=restarted))
                started = time.time()
                generator = dep.supervisor.start(
                    "generator",
                    [sys.executable, "-m", "loadtests", "--host", dep.base_url,
                     "--plan", str(plan_path), "--out", str(folder / "load")],
                    cwd=PROJECT_ROOT, cpus=dep.cpus.generator,
                )
                components["generator"] = generator.pid
                info["cpu_affinity"] = affinities(dep.processes)  # the split as the kernel has it
                deadline = started + scenario.duration_s + 120
                while generator.running():
                    if time.time() > deadline:
                        raise HarnessError(f"the load generator overran its duration; see "
                                           f"{generator.log_path}")
                    progress.update(phase, completed=min(time.time() - started,
                                                         scenario.duration_s))
                    time.sleep(0.25)
                if generator.popen.returncode != 0:
                    raise HarnessError(f"the load generator failed (exit "
                                       f"{generator.popen.returncode}); log {generator.log_path}:"
                                       f"\n{generator.log_tail()}")
            laps.lap("load")
            progress.update(phase, description=f"{label}: collecting")
            summary = json.loads((folder / "load" / "summary.json").read_text())
            measured_from, measured_to = measured_window(summary, started, scenario)
            info.update(measured_from=measured_from, measured_to=measured_to)
            events = spec_of(planned.architecture).kind == "services"
            if events:  # a read side fed by events lags behind its write side
                lag = asyncio.run(read_lag(dep.databases["query"], measured_from, measured_to))
                write_json_atomic(folder / "readlag.json", lag)
            down = injector.killed_for_good()
            if down:  # recovery from a crash is part of what is checked
                progress.update(phase, description=f"{label}: restarting {', '.join(down)}")
                for name in down:
                    restarted(dep.supervisor.restart(name))
                info["restarted_for_check"] = down
            laps.lap("collect")
            progress.update(phase, description=f"{label}: waiting for quiescence, checking "
                                               "the invariants")
            check_run(dep, folder, scenario)
            if faults and events:  # after quiescence: all of it
                write_lag_timeline(folder / LAG_FILE, asyncio.run(
                    lag_timeline(dep.databases["query"])))
            laps.lap("check")
            progress.update(phase, description=f"{label}: tearing down")
        laps.lap("teardown")
        info["status"] = "complete"
    finally:
        write_json_atomic(folder / "info.json", info)
        progress.remove_task(phase)


def check_run(dep: Deployment, folder: Path, scenario: Scenario) -> dict[str, Any]:
    """The five invariants on this run's deployment, after quiescence and before teardown, into
    check.json (what `archbench check` reports). A check that cannot run is recorded as such, and
    so is a process that died on its own (no fault killed it for good): nothing is restarted
    behind the user's back."""
    from harness.results.checks import CHECK_FILE  # pandas, via rundir
    from harness.verify.check import check_deployment, wait_quiescent  # asyncpg, nats, httpx

    state = json.loads(dump(dep))  # what deployment.json holds, restarts included
    dead = [f"{p.name} (exit {p.popen.returncode})" for p in dep.dead_processes()
            if p.name != "generator"]
    # an event delivered to a consumer that crashed comes back only after the ack wait
    patience = QUIESCENCE_S + (scenario.microservices.ack_wait_s
                               if spec_of(dep.architecture).kind == "services" else 0.0)
    try:
        if dead:
            raise HarnessError(f"{', '.join(dead)} died during the run; see {dep.root / 'logs'}")
        report = check_deployment(state, dep.root,
                                  quiescence=wait_quiescent(state, timeout_s=patience))
    except Exception as exc:
        report = {"error": f"{type(exc).__name__}: {exc}"}
    write_json_atomic(folder / CHECK_FILE, report)
    return report



def _write_state(out: Path, state: dict[str, Any]) -> None:
    write_json_atomic(out / "run.json", state)

