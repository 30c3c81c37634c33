"""Deploy one architecture on real infrastructure, locally, and tear it all down again.

A deployment owns a folder: `postgres/` (data), `payment_provider/` (ledger), `caddy/` (config),
`logs/` (one file per process). The apps are started as `python -m apps.<name>` processes: the
harness talks to them over HTTP and the command line only, never by importing them.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from harness.config.architectures import ArchitectureSpec, spec_of
from harness.config.cpus import CpuSplit, cpu_split, not_pinned
from harness.config.errors import HarnessError
from harness.config.scenario import Architecture, Scenario
from harness.deploy.binaries import find_binary, postgres_bin_dir
from harness.deploy.gateway import Route, start_caddy
from harness.deploy.manifests import load_manifests
from harness.deploy.nats import claim_existing, delete_streams, streams_of
from harness.deploy.nats import existing as existing_nats
from harness.deploy.nats import start_embedded as start_nats
from harness.deploy.postgres import PostgresServer, existing, start_embedded
from harness.deploy.supervisor import (
    ManagedProcess,
    Supervisor,
    ensure_port_free,
    free_port,
    signals_blocked,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# the processes of a deployment that are not the application
INFRASTRUCTURE = ("postgres", "caddy", "nats", "payment_provider")
Step = Callable[[str], None]


@dataclass
class Deployment:
    architecture: Architecture
    base_url: str
    root: Path
    supervisor: Supervisor
    cold_start_s: float = 0.0
    databases: dict[str, str] = field(default_factory=dict)
    endpoints: dict[str, str] = field(default_factory=dict)
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    # every process above runs on cpus.system; a load generator belongs on cpus.generator
    cpus: CpuSplit = field(default_factory=lambda: not_pinned("not pinned"))

    @property
    def processes(self) -> list[ManagedProcess]:
        return list(self.supervisor.processes)

    def dead_processes(self) -> list[ManagedProcess]:
        return [p for p in self.supervisor.processes if not p.running()]


def new_deployment_dir(architecture: str, parent: Path | None = None) -> Path:
    parent = parent or Path.cwd() / ".deployments"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return parent / f"{architecture}-{stamp}-{secrets.token_hex(3)}"


@contextlib.contextmanager
def deployed(
    architecture: Architecture,
    scenario: Scenario,
    *,
    root: Path,
    port: int | None = None,
    dsn: str | None = None,
    nats_url: str | None = None,
    keep_data: bool = False,
    step: Step = lambda _: None,
) -> Iterator[Deployment]:
    """Start `architecture` with its infrastructure; everything is stopped when the block ends."""
    if root.exists() and any(root.iterdir()):
        raise HarnessError(f"deployment folder {root} already exists and is not empty")
    preflight(architecture, dsn=dsn, nats_url=nats_url)
    gateway_port = ensure_port_free(port) if port is not None else free_port()
    split = cpu_split(scenario.cpus)
    supervisor = Supervisor(root, cpus=split.system)
    server: PostgresServer | None = None
    deployment: Deployment | None = None
    created: list[str] = []
    try:
        started = time.monotonic()
        step("starting PostgreSQL" if dsn is None else "connecting to PostgreSQL")
        server = start_embedded(supervisor) if dsn is None else existing(dsn)
        deployment = Deployment(architecture, "", root, supervisor, cpus=split)

        def database(name: str) -> str:
            db = name if server.embedded else f"archbench_{secrets.token_hex(4)}_{name}"
            db_dsn = server.create_database(db)
            created.append(db)
            deployment.databases[name] = db_dsn
            return db_dsn

        step("starting the payment provider")
        deployment.endpoints["payment_provider"] = _start_payment_provider(supervisor, scenario)
        spec = spec_of(architecture)
        if spec.kind == "single":
            routes = _start_single(spec, deployment, scenario, database, step)
        else:
            routes = _start_services(spec, deployment, scenario, database, nats_url, step)
        step("starting Caddy")
        deployment.base_url = start_caddy(supervisor, gateway_port, routes)
        deployment.endpoints["gateway"] = deployment.base_url
        deployment.cold_start_s = time.monotonic() - started
        (root / "deployment.json").write_text(dump(deployment))
        yield deployment
    finally:
        with signals_blocked():  # a second Ctrl-C must not skip the cleanup
            supervisor.stop_all()
            for cleanup in deployment.cleanups if deployment is not None else ():
                cleanup()
            if server is not None and not server.embedded:
                for name in created:
                    with contextlib.suppress(HarnessError):
                        server.drop_database(name)
            if not keep_data:
                shutil.rmtree(root / "postgres", ignore_errors=True)


def preflight(architecture: Architecture, *, dsn: str | None = None,
              nats_url: str | None = None) -> None:
    """Fail now, in one line and before anything is written or started, if a binary the
    deployment needs is missing."""
    if dsn is None:
        postgres_bin_dir()
    find_binary("caddy")
    if spec_of(architecture).kind == "services" and nats_url is None:
        find_binary("nats-server")


def _start_single(spec: ArchitectureSpec, deployment: Deployment, scenario: Scenario,
                  database: Callable[[str], str], step: Step) -> list[Route]:
    """One app process (its workers) on one database, named as its manifest names them."""
    ((name, db),) = spec.databases().items()
    module = f"apps.{spec.app}"
    step("creating the database and loading the dataset")
    dsn = database(db)
    _run_app_command(deployment.root, f"{name}-init", [
        sys.executable, "-m", module, "init", "--dsn", dsn,
        "--dataset", scenario.dataset.model_dump_json(),
    ])
    step(f"starting the {name}")
    port = free_port()
    deployment.supervisor.start(
        name,
        [sys.executable, "-m", module, "serve", "--port", str(port),
         "--workers", str(spec.workers or scenario.replicas.monolith_workers)],
        cwd=PROJECT_ROOT, ports=(port,), timeout=60,
        env={"ARCHBENCH_DSN": dsn,
             "ARCHBENCH_PAYMENT_URL": deployment.endpoints["payment_provider"]},
        health=_http_ok(f"http://127.0.0.1:{port}/health"),
    )
    deployment.endpoints[name] = f"http://127.0.0.1:{port}"
    return [Route(upstreams=(f"127.0.0.1:{port}",))]


def _start_services(spec: ArchitectureSpec, deployment: Deployment, scenario: Scenario,
                    database: Callable[[str], str], nats_url: str | None,
                    step: Step) -> list[Route]:
    """One process and one database per manifest, the events through NATS JetStream."""
    step("starting NATS JetStream" if nats_url is None else "using the given NATS server")
    manifests = load_manifests(spec.manifests_dir)
    module = f"apps.{spec.app}"
    if nats_url is None:
        nats = start_nats(deployment.supervisor)
    else:
        nats = existing_nats(nats_url)
        streams = streams_of([s for m in manifests for s in m.emits])
        claim_existing(nats_url, streams)
        deployment.cleanups.append(lambda: delete_streams(nats_url, streams))
    deployment.endpoints["nats"] = nats.url
    if nats.monitor_url is not None:
        deployment.endpoints["nats_monitor"] = nats.monitor_url
    routes: list[Route] = []
    fallback: Route | None = None
    for manifest in manifests:
        step(f"starting the {manifest.name} service")
        dsn = database(manifest.database)
        _run_app_command(deployment.root, f"{manifest.name}-init", [
            sys.executable, "-m", module, manifest.name, "init", "--dsn", dsn,
            "--dataset", scenario.dataset.model_dump_json(),
        ])
        port = free_port()
        deployment.supervisor.start(
            manifest.name,
            [sys.executable, "-m", module, manifest.name, "serve",
             "--port", str(port)],
            cwd=PROJECT_ROOT, ports=(port,), timeout=60,
            env={"ARCHBENCH_DSN": dsn, "ARCHBENCH_NATS_URL": nats.url,
                 "ARCHBENCH_PAYMENT_URL": deployment.endpoints["payment_provider"],
                 "ARCHBENCH_ACK_WAIT_S": str(scenario.microservices.ack_wait_s)},
            health=_http_ok(f"http://127.0.0.1:{port}/health"),
        )
        upstream = f"127.0.0.1:{port}"
        deployment.endpoints[manifest.name] = f"http://{upstream}"
        routes += manifest.gateway_routes(upstream)
        if "GET /health" in manifest.routes:
            fallback = Route(upstreams=(upstream,))
    if fallback is None:
        raise HarnessError("no service manifest declares GET /health for the gateway")
    return [*routes, fallback]


def _start_payment_provider(supervisor: Supervisor, scenario: Scenario) -> str:
    settings = scenario.payment_provider
    port = free_port()
    folder = supervisor.root / "payment_provider"
    folder.mkdir(exist_ok=True)
    supervisor.start(
        "payment_provider",
        [sys.executable, "-m", "apps.payment_provider", "--port", str(port),
         "--latency", settings.latency, "--decline-rate", str(settings.decline_rate),
         "--seed", str(settings.seed), "--ledger", str(folder / "ledger.jsonl")],
        cwd=PROJECT_ROOT, ports=(port,),
        health=_http_ok(f"http://127.0.0.1:{port}/health"),
    )
    return f"http://127.0.0.1:{port}"


def _run_app_command(root: Path, name: str, argv: list[str]) -> None:
    log_path = root / "logs" / f"{name}.log"
    with open(log_path, "ab") as log:
        done = subprocess.run(argv, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout=300, check=False)
    if done.returncode != 0:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-5:])
        raise HarnessError(f"{name} failed (exit {done.returncode}); log {log_path}:\n{tail}")


def _http_ok(url: str) -> Callable[[], bool]:
    def check() -> bool:
        return httpx.get(url, timeout=1.0).status_code == 200

    return check


def describe(deployment: Deployment) -> list[dict[str, object]]:
    """One row per process: name, pid, ports (for `up`'s table and the run metadata)."""
    return [
        {"name": p.name, "pid": p.pid, "ports": ",".join(map(str, p.ports)) or "-",
         "log": str(p.log_path)}
        for p in deployment.processes
    ]


def dump(deployment: Deployment) -> str:
    """The deployment's address book, written to deployment.json for later commands."""
    return json.dumps({
        "architecture": deployment.architecture, "base_url": deployment.base_url,
        "cold_start_s": round(deployment.cold_start_s, 3), "databases": deployment.databases,
        "endpoints": deployment.endpoints, "processes": describe(deployment),
        "cpus": deployment.cpus.to_json(),
    }, indent=2)
