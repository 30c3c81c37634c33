"""The read side's lag, read from the query service's `read_lag` view (one row per event it
applied, from its inbox: when the event occurred, and when the transaction applying it began):
percentiles over the measured window, and the whole timeline for the resilience plots."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import asyncpg

LAG_FILE = "readlag.csv"


async def read_lag(dsn: str, since: float, until: float) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT lag_ms FROM read_lag WHERE occurred_at >= to_timestamp($1) "
            "AND occurred_at < to_timestamp($2) ORDER BY lag_ms", since, until)
    finally:
        await conn.close()
    lags = [float(r["lag_ms"]) for r in rows]
    if not lags:
        return {"count": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}

    def at(q: float) -> float:
        return lags[min(len(lags) - 1, int(q * len(lags)))]

    return {"count": len(lags), "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": lags[-1]}


async def lag_timeline(dsn: str) -> list[tuple[float, float]]:
    """Every event the read side applied: (when it occurred, epoch s; its lag, ms)."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT extract(epoch FROM occurred_at) AS at, lag_ms "
                                "FROM read_lag ORDER BY occurred_at")
    finally:
        await conn.close()
    return [(float(r["at"]), float(r["lag_ms"])) for r in rows]


def write_lag_timeline(path: Path, rows: list[tuple[float, float]]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch_s", "lag_ms"])
        writer.writerows((f"{at:.6f}", f"{lag:.3f}") for at, lag in rows)
    tmp.replace(path)


