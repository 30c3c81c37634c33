"""How close the monolith's real endpoints come to the HTTP stack's own ceiling, in one run.

Deploys the monolith through the harness (PostgreSQL, payment provider, monolith, Caddy), then
drives it with wrk from a second process, interleaving the targets over repeats so that machine
noise hits all of them alike:

  ceiling      GET /health through Caddy (trivial JSON, no database): the stack's ceiling
  direct       GET /health straight to uvicorn (what Caddy costs)
  availability GET /availability through Caddy (random hotel, check-in, nights)
  bookings     POST /bookings through Caddy (random room type and stay; payment latency applies)

Usage: .venv/bin/python benchmarks/http_ceiling.py [--duration 10] [--repeats 3] [--connections 32]
Needs wrk (Debian package `wrk`). Prints a Markdown table; ratios are to the ceiling of the same run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

from harness.config.scenario import Dataset, PaymentProvider, Replicas, Scenario
from harness.deploy.deployment import deployed

HERE = Path(__file__).resolve().parent
HOTELS = 200


def wrk(url: str, duration: int, connections: int, script: str | None) -> dict[str, float]:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    if script:
        argv += ["-s", str(HERE / script)]
    out = subprocess.run([*argv, url], capture_output=True, text=True, check=True,
                         env={**os.environ, "HOTELS": str(HOTELS)}).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    pct = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.MULTILINE))
    return {"rps": rate, "p50_ms": _ms(pct["50"]), "p99_ms": _ms(pct["99"]),
            "non2xx": float(errors.group(1)) if errors else 0.0}


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--latency", default="fixed:0.005")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")

    scenario = Scenario(
        dataset=Dataset(hotels=HOTELS, room_types_per_hotel=3, units_per_room_type=50),
        payment_provider=PaymentProvider(latency=args.latency),
        replicas=Replicas(monolith_workers=args.workers),
    )
    with tempfile.TemporaryDirectory() as tmp, deployed(
            "monolith", scenario, root=Path(tmp) / "d") as dep:
        direct = dep.endpoints["monolith"]
        targets = {
            "ceiling": (f"{dep.base_url}/health", None),
            "direct": (f"{direct}/health", None),
            "availability": (f"{dep.base_url}/", "availability.lua"),
            "bookings": (f"{dep.base_url}/", "bookings.lua"),
        }
        for url, script in targets.values():  # warm-up, discarded
            wrk(url, 2, args.connections, script)
        results: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
        for _ in range(args.repeats):
            for name, (url, script) in targets.items():
                results[name].append(wrk(url, args.duration, args.connections, script))
                time.sleep(1)
        rss = {}
        for proc in dep.processes:
            tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
            rss[proc.name] = sum(p.memory_info().rss for p in tree) / 2**20
        cold = dep.cold_start_s

    ceiling = statistics.median(r["rps"] for r in results["ceiling"])
    print(f"\nmachine: {os.cpu_count()} cores; wrk -t1 -c{args.connections} -d{args.duration}s, "
          f"{args.repeats} interleaved repeats; monolith workers {args.workers}; "
          f"payment latency {args.latency}\n")
    print("| target | req/s median (min-max) | vs ceiling | p50 ms | p99 ms | non-2xx |")
    print("|---|---|---|---|---|---|")
    for name, runs in results.items():
        rates = [r["rps"] for r in runs]
        print(f"| {name} | {statistics.median(rates):,.0f} ({min(rates):,.0f}-{max(rates):,.0f}) "
              f"| {statistics.median(rates) / ceiling:.0%} "
              f"| {statistics.median(r['p50_ms'] for r in runs):.2f} "
              f"| {statistics.median(r['p99_ms'] for r in runs):.2f} "
              f"| {sum(r['non2xx'] for r in runs):.0f} |")
    print(f"\ncold start to healthy: {cold:.2f} s")
    print("RSS after load (MiB, process and its children): "
          + ", ".join(f"{k} {v:.0f}" for k, v in rss.items()))


if __name__ == "__main__":
    main()
