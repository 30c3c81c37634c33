"""`archbench replay`: ask each event-sourced or projected service to rebuild itself from the log."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness.config.architectures import find
from harness.config.errors import HarnessError
from harness.deploy.deployment import PROJECT_ROOT

REBUILT_FROM_LOG = ("booking", "query")


def read_deployment(folder: Path) -> dict[str, Any]:
    """The deployment.json of a deployment folder; a one-line error if it is not one."""
    state_file = folder / "deployment.json"
    try:
        state = json.loads(state_file.read_text())
    except (OSError, ValueError) as exc:
        raise HarnessError(f"{state_file}: not a deployment folder ({exc})") from exc
    if not isinstance(state, dict) or not {"architecture", "databases", "endpoints"} <= set(state):
        raise HarnessError(f"{state_file}: not a deployment folder (truncated?)")
    return state


def replay_deployment(folder: Path) -> list[dict[str, Any]]:
    state = read_deployment(folder)
    spec = find(str(state.get("architecture")))
    if spec is None or spec.kind != "services":
        raise HarnessError(f"{folder} holds a {state.get('architecture')} deployment; "
                           "replay rebuilds the microservices' state from their event log")
    nats_url = state["endpoints"]["nats"]
    reports = []
    for service in REBUILT_FROM_LOG:
        done = subprocess.run(
            [sys.executable, "-m", f"apps.{spec.app}", service, "replay",
             "--dsn", state["databases"][service], "--nats", nats_url],
            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600, check=False,
        )
        if done.returncode not in (0, 1) or not done.stdout.strip():
            raise HarnessError(f"{service} replay failed (exit {done.returncode}): "
                               f"{done.stderr.strip()[-500:]}")
        reports.append({**json.loads(done.stdout.strip().splitlines()[-1]), "service": service})
    return reports
