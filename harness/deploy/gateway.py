"""Caddy as the single gateway of a deployment: one loopback port, routes to the app processes."""

from __future__ import annotations

import json
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from harness.deploy.binaries import find_binary
from harness.deploy.supervisor import Supervisor


@dataclass(frozen=True)
class Route:
    """Requests matching `methods` (all when empty) and `paths` (all when empty) go to `upstreams`."""

    upstreams: tuple[str, ...]
    methods: tuple[str, ...] = ()
    paths: tuple[str, ...] = field(default=())


def caddy_config(port: int, routes: Sequence[Route], access_log: str | None = None) -> dict:
    """The JSON config: plain HTTP on 127.0.0.1:port, no admin endpoint, no automatic HTTPS."""
    caddy_routes = []
    for route in routes:
        match: dict[str, list[str]] = {}
        if route.methods:
            match["method"] = list(route.methods)
        if route.paths:
            match["path"] = list(route.paths)
        handler = {
            "handler": "reverse_proxy",
            "upstreams": [{"dial": upstream} for upstream in route.upstreams],
            "load_balancing": {"selection_policy": {"policy": "least_conn"}},
        }
        caddy_route: dict = {"handle": [handler], "terminal": True}
        if match:
            caddy_route["match"] = [match]
        caddy_routes.append(caddy_route)
    server: dict = {
        "listen": [f"127.0.0.1:{port}"],
        "routes": caddy_routes,
        "automatic_https": {"disable": True},
    }
    if access_log:
        server["logs"] = {"default_logger_name": "access"}
    config: dict = {"admin": {"disabled": True}, "apps": {"http": {"servers": {"gateway": server}}}}
    if access_log:
        config["logging"] = {"logs": {"access": {
            "writer": {"output": "file", "filename": access_log}, "include": ["http.log.access"],
        }}}
    return config


def start_caddy(supervisor: Supervisor, port: int, routes: Sequence[Route]) -> str:
    """Start Caddy in front of `routes`; returns the base URL once /health answers through it."""
    caddy = find_binary("caddy")
    folder = supervisor.root / "caddy"
    folder.mkdir(exist_ok=True)
    config_path = folder / "caddy.json"
    config_path.write_text(json.dumps(caddy_config(port, routes), indent=2))
    base_url = f"http://127.0.0.1:{port}"
    env = {"XDG_DATA_HOME": str(folder / "data"), "XDG_CONFIG_HOME": str(folder / "config"),
           "HOME": str(folder)}
    supervisor.start(
        "caddy", [str(caddy), "run", "--config", str(config_path)], env=env,
        stop_signal=signal.SIGTERM, ports=(port,),
        health=lambda: httpx.get(f"{base_url}/health", timeout=1).status_code == 200,
    )
    return base_url
