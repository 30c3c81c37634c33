"""The live part of `archbench audit`: deploy one architecture, run the runtime probe
(harness.audit.runtime_probe) and the availability matrix (harness.audit.availability) on it,
read its schemas, then tear everything down."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg

from harness.audit.availability import availability_matrix
from harness.audit.live_common import read_catalog
from harness.audit.runtime_probe import runtime_probe
from harness.config.architectures import spec_of
from harness.config.errors import HarnessError
from harness.config.scenario import Scenario
from harness.deploy.deployment import deployed
from harness.deploy.footprint import overhead
from harness.deploy.supervisor import stop_signals_interrupt


def live_audit(architecture: str, scenario: Scenario, root: Path, *, samples: int = 10,
               step: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Deploy `architecture` with the scenario's dataset, workers and payment latency, measure,
    tear down. Returns a JSON-serialisable dict. Everything started is stopped on success, error,
    KeyboardInterrupt.

    The payment provider declines nothing here, whatever the scenario's decline rate: every probe
    booking confirms, so the counts are those of one confirmed booking (and one cancel of it), and
    the bookings the availability rows read and cancel always exist."""
    spec_of(architecture)  # an unknown name fails before anything starts
    if samples < 1:
        raise HarnessError("samples must be at least 1")
    scenario = scenario.model_copy(update={"payment_provider": scenario.payment_provider.model_copy(
        update={"decline_rate": 0.0})})
    started = time.monotonic()
    # SIGINT and SIGTERM raise KeyboardInterrupt at once, also inside the event loops: asyncio's
    # own SIGINT handling only cancels the running task, which an in-flight HTTP request may
    # turn into an ordinary error, and the audit would go on
    interrupts = (stop_signals_interrupt() if threading.current_thread() is threading.main_thread()
                  else contextlib.nullcontext())
    with interrupts, deployed(architecture, scenario, root=root,
                              step=step) as dep:
        deploy_s = time.monotonic() - started
        step("reading the deployed schemas")
        schemas = asyncio.run(_schemas(dep.databases))
        catalog = asyncio.run(read_catalog(dep.base_url, scenario))
        probe_started = time.monotonic()
        probe = asyncio.run(runtime_probe(dep, catalog, samples, step))
        probe_s = time.monotonic() - probe_started
        processes = overhead(dep)["processes"]
        availability = availability_matrix(dep, catalog, step)
        step("tearing down")
        teardown_started = time.monotonic()
    teardown_s = time.monotonic() - teardown_started
    return {
        "architecture": architecture,
        "schemas": schemas,
        "database_clients": probe.clients,
        "runtime": probe.runtime,
        "background_per_s": probe.background,
        "availability": availability,
        "e2e_pass": {
            "processes": processes, "deploy_s": round(deploy_s, 3), "probe_s": round(probe_s, 3),
            "teardown_s": round(teardown_s, 3),
            "total_s": round(deploy_s + probe_s + teardown_s, 3),
        },
    }


async def _schemas(databases: dict[str, str]) -> dict[str, dict[str, list[str]]]:
    out = {}
    for key, dsn in databases.items():
        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            rows = await conn.fetch(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
        finally:
            await conn.close()
        out[key] = {"tables": sorted(r["table_name"] for r in rows)}
    return out
