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

from harness.errors import HarnessError
from harness.gateway import Route, start_caddy
from harness.postgres import PostgresServer, existing, start_embedded
from harness.scenario import Architecture, Scenario
from harness.supervisor import ManagedProcess, Supervisor, ensure_port_free, free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent
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
    keep_data: bool = False,
    step: Step = lambda _: None,
) -> Iterator[Deployment]:
    """Start `architecture` with its infrastructure; everything is stopped when the block ends."""
    if architecture != "monolith":
        raise HarnessError(f"deploying {architecture} is not available yet; deploy monolith")
    if root.exists() and any(root.iterdir()):
        raise HarnessError(f"deployment folder {root} already exists and is not empty")
    gateway_port = ensure_port_free(port) if port is not None else free_port()
    supervisor = Supervisor(root)
    server: PostgresServer | None = None
    created: list[str] = []
    try:
        started = time.monotonic()
        step("starting PostgreSQL" if dsn is None else "connecting to PostgreSQL")
        server = start_embedded(supervisor) if dsn is None else existing(dsn)
        name = "monolith" if server.embedded else f"archbench_{secrets.token_hex(4)}_monolith"
        step("creating database and loading the dataset")
        monolith_dsn = server.create_database(name)
        created.append(name)
        _run_app_command(root, "monolith-init", [
            sys.executable, "-m", "apps.monolith", "init", "--dsn", monolith_dsn,
            "--dataset", scenario.dataset.model_dump_json(),
        ])
        step("starting the payment provider")
        provider_url = _start_payment_provider(supervisor, scenario)
        step("starting the monolith")
        monolith_port = free_port()
        supervisor.start(
            "monolith",
            [sys.executable, "-m", "apps.monolith", "serve", "--port", str(monolith_port),
             "--workers", str(scenario.replicas.monolith_workers)],
            cwd=PROJECT_ROOT, ports=(monolith_port,), timeout=60,
            env={"ARCHBENCH_DSN": monolith_dsn, "ARCHBENCH_PAYMENT_URL": provider_url},
            health=_http_ok(f"http://127.0.0.1:{monolith_port}/health"),
        )
        step("starting Caddy")
        base_url = start_caddy(supervisor, gateway_port,
                               [Route(upstreams=(f"127.0.0.1:{monolith_port}",))])
        deployment = Deployment(
            architecture, base_url, root, supervisor,
            cold_start_s=time.monotonic() - started,
            databases={"monolith": monolith_dsn},
            endpoints={"gateway": base_url, "payment_provider": provider_url,
                       "monolith": f"http://127.0.0.1:{monolith_port}"},
        )
        yield deployment
    finally:
        supervisor.stop_all()
        if server is not None and not server.embedded:
            for name in created:
                with contextlib.suppress(HarnessError):
                    server.drop_database(name)
        if not keep_data:
            shutil.rmtree(root / "postgres", ignore_errors=True)


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
    return json.dumps({
        "architecture": deployment.architecture, "base_url": deployment.base_url,
        "cold_start_s": round(deployment.cold_start_s, 3), "processes": describe(deployment),
    }, indent=2)
