"""End-to-end booking latency of both architectures at a low, steady rate, in one run.

For each repeat, each architecture in turn (A B A B ...): deploy through the harness, send
POST /bookings on a fixed schedule (open loop: one send every 1/rate s, not waiting on answers),
poll GET /bookings/{id} every 2 ms until the status is terminal, and count the time from the
*intended* send to the terminal status seen by the client. Then read, from the deployment:
read-model lag (query service's read_lag), messages published per booking (JetStream stream
totals), processes and RSS of the deployment, cold start to healthy.

Usage: .venv/bin/python benchmarks/e2e_latency.py [--rate 10] [--seconds 20] [--repeats 2]
Prints a Markdown table. Not a load test: the rate is meant to leave the machine mostly idle.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil

from harness.config.scenario import Dataset, PaymentProvider, Scenario
from harness.deploy.deployment import Deployment, deployed

TERMINAL = {"confirmed", "rejected", "cancelled"}


async def _one(client: httpx.AsyncClient, intended: float, i: int, hotels: int) -> float:
    body = {"customer_id": f"bench-{i}", "room_type_id": f"h{1 + i % hotels:04d}-r{1 + i % 3}",
            "check_in": f"2027-01-{1 + (i // hotels) % 25:02d}", "nights": 2, "card_token": "tok_ok"}
    response = await client.post("/bookings", json=body)
    booking_id, status = response.json()["booking_id"], response.json()["status"]
    while status not in TERMINAL:
        await asyncio.sleep(0.002)
        polled = await client.get(f"/bookings/{booking_id}")
        if polled.status_code == 200:  # a 404 is the read side not having seen it yet
            status = polled.json()["status"]
    return time.perf_counter() - intended


async def drive(base_url: str, rate: float, seconds: float, hotels: int) -> list[float]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30,
                                 limits=httpx.Limits(max_connections=200)) as client:
        start = time.perf_counter()
        tasks = []
        for i in range(int(rate * seconds)):
            intended = start + i / rate
            await asyncio.sleep(max(0.0, intended - time.perf_counter()))
            tasks.append(asyncio.create_task(_one(client, intended, i, hotels)))
        return list(await asyncio.gather(*tasks))


async def read_lag(dsn: str) -> list[float]:
    conn = await asyncpg.connect(dsn)
    try:
        return [float(r[0]) for r in await conn.fetch("SELECT lag_ms FROM read_lag")]
    finally:
        await conn.close()


def stream_messages(monitor_url: str) -> int:
    info = httpx.get(f"{monitor_url}/jsz?streams=true", timeout=5).json()
    return sum(s["state"]["messages"] for a in info.get("account_details", [])
               for s in a.get("stream_detail", []))


def footprint(dep: Deployment) -> tuple[int, float]:
    procs = []
    for p in dep.processes:
        root = psutil.Process(p.pid)
        procs += [root, *root.children(recursive=True)]
    return len(procs), sum(p.memory_info().rss for p in procs) / 2**20


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    hotels = 50
    scenario = Scenario(dataset=Dataset(hotels=hotels, units_per_room_type=50),
                        payment_provider=PaymentProvider(latency="fixed:0.005"))
    results: dict[str, list[dict[str, Any]]] = {"monolith": [], "microservices": []}
    for _ in range(args.repeats):
        for arch in results:
            with tempfile.TemporaryDirectory() as tmp, deployed(
                    arch, scenario, root=Path(tmp) / "d") as dep:  # type: ignore[arg-type]
                asyncio.run(drive(dep.base_url, 5, 2, hotels))  # warm-up, discarded
                latencies = asyncio.run(drive(dep.base_url, args.rate, args.seconds, hotels))
                row: dict[str, Any] = {"latencies": latencies, "cold": dep.cold_start_s}
                row["processes"], row["rss"] = footprint(dep)
                if arch == "microservices":
                    row["lag"] = asyncio.run(read_lag(dep.databases["query"]))
                    nats_monitor = next(f"http://127.0.0.1:{p.ports[1]}" for p in dep.processes
                                        if p.name == "nats")
                    row["messages"] = stream_messages(nats_monitor)
                    row["bookings"] = int(args.rate * args.seconds) + 10
                results[arch].append(row)

    print(f"\n{psutil.cpu_count()} cores; rate {args.rate}/s for {args.seconds} s, "
          f"{args.repeats} interleaved repeats; payment latency 5 ms\n")
    print("| architecture | e2e p50 ms | e2e p99 ms | processes | RSS MiB | cold start s |")
    print("|---|---|---|---|---|---|")
    p50 = {}
    for arch, rows in results.items():
        p50s = [pct(r["latencies"], 0.5) * 1000 for r in rows]
        p99s = [pct(r["latencies"], 0.99) * 1000 for r in rows]
        p50[arch] = statistics.median(p50s)
        print(f"| {arch} | {p50[arch]:.1f} ({min(p50s):.1f}-{max(p50s):.1f}) "
              f"| {statistics.median(p99s):.1f} ({min(p99s):.1f}-{max(p99s):.1f}) "
              f"| {rows[0]['processes']} | {statistics.median(r['rss'] for r in rows):.0f} "
              f"| {statistics.median(r['cold'] for r in rows):.1f} |")
    print(f"\nmicroservices / monolith e2e p50: {p50['microservices'] / p50['monolith']:.2f}x")
    lags = [x for r in results["microservices"] for x in r["lag"]]
    print(f"read-model lag over {len(lags)} events: p50 {pct(lags, 0.5):.1f} ms, "
          f"p99 {pct(lags, 0.99):.1f} ms")
    per = [r["messages"] / r["bookings"] for r in results["microservices"]]
    print(f"messages published per booking: {statistics.median(per):.2f} "
          f"(stream totals / bookings incl. warm-up)")


if __name__ == "__main__":
    main()
