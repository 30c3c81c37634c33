"""What it takes to run one deployment, counted on the live processes: deployables, processes,
databases, ports, resident memory, cold start and lines of configuration."""

from __future__ import annotations

from pathlib import Path
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
    """Non-blank lines of deployment configuration: the gateway's config, the service manifests,
    and one line per environment setting handed to each app process."""
    lines = _count_lines(dep.root / "caddy" / "caddy.json")
    spec = spec_of(dep.architecture)
    # a single app's manifest is read by the audit only; services are deployed from theirs
    services = spec.kind == "services"
    if services:
        for manifest in spec.manifest_files():
            lines += _count_lines(manifest)
    apps = [p for p in dep.processes if p.name not in INFRASTRUCTURE]
    settings_per_app = 3 if services else 2  # DSN, payment URL (and the NATS URL)
    return lines + settings_per_app * len(apps)


def _count_lines(path: Path) -> int:
    try:
        return sum(1 for line in path.read_text().splitlines() if line.strip())
    except OSError:
        return 0


