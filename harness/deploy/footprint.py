"""What it takes to run one deployment, counted on the live processes: deployables, processes,
databases, ports, resident memory, cold start and lines of configuration, each counted the same
way for every architecture."""

from __future__ import annotations

import contextlib
import json
import tomllib
from collections.abc import Mapping
from typing import Any

from harness.config.architectures import spec_of
from harness.deploy.deployment import INFRASTRUCTURE, Deployment
from harness.deploy.metrics import tree_usage


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
    """Lines of configuration, counted the same way for every architecture (`config_settings`):
    the gateway's config, every manifest of the architecture (the monolith's too), and what each
    process of the deployment is handed (infrastructure included)."""
    try:
        gateway = json.loads((dep.root / "caddy" / "caddy.json").read_text())
    except (OSError, ValueError):
        gateway = {}
    manifests = []
    for path in spec_of(dep.architecture).manifest_files():
        with contextlib.suppress(OSError, tomllib.TOMLDecodeError):
            manifests.append(tomllib.loads(path.read_text()))
    launches = [(p.launch.argv, p.launch.env) for p in dep.processes if p.launch is not None]
    return config_settings(gateway, manifests, launches)


# manifest keys that are prose for a reader (why each table exists), not configuration
PROSE_KEYS = frozenset({"tables_justification"})


def config_settings(gateway: Any, manifests: list[dict[str, Any]],
                    launches: list[tuple[tuple[str, ...], Mapping[str, str]]]) -> int:
    """One line per setting, whatever the files' layout: each value of the gateway's JSON and of
    every manifest (a list counts one per item; comments are not parsed and prose keys are left
    out), each environment variable and each command-line option (`-x`, `--x`) a process is
    started with (after `python -m package`)."""
    lines = _settings(gateway) + sum(_settings(m) for m in manifests)
    for argv, env in launches:
        # `python -m package` is how it is started, not a setting of it
        given = argv[3:] if len(argv) > 2 and argv[1] == "-m" else argv[1:]
        lines += len(env) + sum(1 for arg in given if arg.startswith("-"))
    return lines


def _settings(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_settings(v) for k, v in value.items() if k not in PROSE_KEYS)
    if isinstance(value, list):
        return sum(_settings(v) for v in value)
    return 1
