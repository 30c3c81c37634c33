"""Does the harness's load generator report what an independent client sees? Both, in one run.

Deploys one architecture through the harness (the default CPU split: the system on all CPUs but
the last), then alternates two open-loop clients, each alone on the generator's CPU, at the same
Poisson rate against GET /availability through the gateway:

  harness      `python -m loadtests` (Locust's FastHttpSession on gevent), as `archbench run` runs it
  independent  this script in client mode: asyncio streams over raw keep-alive sockets, its own
               Poisson schedule and HTTP/1.1 parsing, no Locust, no gevent

Both count latency from each request's *intended* send time, drop the same warm-up, draw the
same query stream (loadtests.inputs.InputPicker with the same seed: the same work asked of the
system) and put latencies in HDR histograms of the same precision. The order alternates
(H I I H ...) so drift hits both alike. The goal: agreement within 10% at p50 and p99.

Usage: PYTHONPATH=. .venv/bin/python benchmarks/independent_client.py [--rate 100] [--seconds 20]
       [--alternations 2] [--architecture monolith]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from hdrh.histogram import HdrHistogram

from loadtests.inputs import InputPicker
from loadtests.plan import Dataset as PlanDataset

LOWEST_US, HIGHEST_US, DIGITS = 1, 120_000_000, 3  # as loadtests.recorder
HOTELS, HORIZON_DAYS = 50, 60
WARMUP_S = 2.0
LATE_S = 0.010
AGREEMENT = 0.10


def histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)


# --- the independent client (runs in its own process, pinned by the harness's supervisor) ---

class Connections:
    """Idle keep-alive connections to one host; a request takes one or opens a new one."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def get(self, path: str) -> int:
        reader, writer = self.idle.pop() if self.idle else await asyncio.open_connection(
            self.host, self.port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                     "Accept: application/json\r\n\r\n".encode("ascii"))
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:] if h)}
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await reader.readline()).split(b";")[0], 16)
                await reader.readexactly(size + 2)  # the chunk and its CRLF
                if size == 0:
                    break
        else:
            await reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            writer.close()
        else:
            self.idle.append((reader, writer))
        return status


async def independent(base_url: str, rate: float, seconds: float, seed: int) -> dict[str, Any]:
    parts = urlsplit(base_url)
    connections = Connections(parts.hostname or "127.0.0.1", parts.port or 80)
    picker = InputPicker(PlanDataset(hotels=HOTELS, horizon_days=HORIZON_DAYS), seed)
    arrivals = random.Random(f"independent-{seed}")
    latencies, lag = histogram(), histogram()
    counts = {"errors": 0, "late_starts": 0, "arrivals": 0}
    total = WARMUP_S + seconds

    async def one(intended: float, path: str) -> None:
        measured = intended - origin >= WARMUP_S
        if measured:
            late = max(0.0, time.perf_counter() - intended)
            counts["arrivals"] += 1
            counts["late_starts"] += late > LATE_S
            lag.record_value(min(HIGHEST_US, max(LOWEST_US, round(late * 1e6))))
        try:
            status = await connections.get(path)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status = 0
        end = time.perf_counter()
        if not measured:
            return
        if status != 200:
            counts["errors"] += 1
            return
        latencies.record_value(min(HIGHEST_US, max(LOWEST_US, round((end - intended) * 1e6))))

    tasks = []
    origin = time.perf_counter()
    offset = arrivals.expovariate(rate)
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    while offset < total:
        intended = origin + offset
        delay = intended - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        check_in, nights = picker.stay()
        query = urlencode({"hotel_id": picker.hotel(), "check_in": check_in, "nights": nights})
        tasks.append(asyncio.create_task(one(intended, f"/availability?{query}")))
        offset += arrivals.expovariate(rate)
    await asyncio.gather(*tasks)
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return {**counts, "histogram": latencies.encode().decode("ascii"),
            "lag_ms": {"p99": lag.get_value_at_percentile(99) / 1000,
                       "max": lag.get_max_value() / 1000},
            "cpu_share": round(cpu / total, 4), "cpus": sorted(os.sched_getaffinity(0))}


# --- the comparison (runs the deployment and both clients) ---

def run_client(dep: Any, name: str, argv: list[str], timeout: float) -> None:
    from harness.deploy.deployment import PROJECT_ROOT

    proc = dep.supervisor.start(name, argv, cwd=PROJECT_ROOT, cpus=dep.cpus.generator)
    code = proc.popen.wait(timeout)
    if code != 0:
        raise SystemExit(f"{name} failed (exit {code}):\n{proc.log_tail()}")


def harness_side(dep: Any, folder: Path, i: int, rate: float, seconds: float,
                 seed: int) -> dict[str, Any]:
    plan = {"model": "open", "arrival": "poisson", "rate": rate, "duration_s": WARMUP_S + seconds,
            "warmup_s": WARMUP_S, "window_s": seconds, "weights": {"search_availability": 1},
            "seed": seed, "max_concurrency": 500,
            "dataset": {"hotels": HOTELS, "room_types_per_hotel": 3, "start_date": "2027-01-01",
                        "horizon_days": HORIZON_DAYS}}
    (folder / f"plan{i}.json").write_text(json.dumps(plan))
    out = folder / f"harness{i}"
    run_client(dep, f"harness-{i}", [sys.executable, "-m", "loadtests", "--host", dep.base_url,
                                     "--plan", str(folder / f"plan{i}.json"), "--out", str(out)],
               seconds + 120)
    summary = json.loads((out / "summary.json").read_text())
    encoded = (out / "histograms" / "search_availability.hdr").read_text().strip()
    errors = sum((summary.get("errors") or {}).get("search_availability", {}).values())
    return {"histogram": encoded, "errors": errors, "late_starts": summary["late_starts"],
            "arrivals": summary.get("arrivals"), "cpu_share": summary["generator_cpu_share"],
            "lag_ms": summary["lag_ms"]}


def independent_side(dep: Any, folder: Path, i: int, rate: float, seconds: float,
                     seed: int) -> dict[str, Any]:
    out = folder / f"independent{i}.json"
    run_client(dep, f"independent-{i}", [sys.executable, __file__, "--client", dep.base_url,
                                         "--rate", str(rate), "--seconds", str(seconds),
                                         "--seed", str(seed), "--out", str(out)], seconds + 120)
    return json.loads(out.read_text())


def describe(result: dict[str, Any]) -> tuple[HdrHistogram, str]:
    hist = HdrHistogram.decode(result["histogram"].encode())
    return hist, (f"{hist.get_value_at_percentile(50) / 1000:.2f} | "
                  f"{hist.get_value_at_percentile(99) / 1000:.2f} | {hist.get_total_count()} | "
                  f"{result['errors']} | {result['late_starts']} | {result['lag_ms']['p99']:.2f} | "
                  f"{result['cpu_share']:.1%}")


def ratio(harness: HdrHistogram, other: HdrHistogram, pct: float) -> float:
    return harness.get_value_at_percentile(pct) / other.get_value_at_percentile(pct)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured, after 2 s of warm-up")
    parser.add_argument("--alternations", type=int, default=2)
    parser.add_argument("--architecture", default="monolith")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--client", metavar="BASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        result = asyncio.run(independent(args.client, args.rate, args.seconds, args.seed))
        args.out.write_text(json.dumps(result))
        return

    from harness.config.scenario import Dataset, PaymentProvider, Scenario
    from harness.deploy.deployment import deployed

    scenario = Scenario(dataset=Dataset(hotels=HOTELS, units_per_room_type=50,
                                        horizon_days=HORIZON_DAYS),
                        payment_provider=PaymentProvider(latency="fixed:0.005"))
    sides = {"harness": harness_side, "independent": independent_side}
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
    with tempfile.TemporaryDirectory() as tmp, deployed(args.architecture, scenario,
                                                        root=Path(tmp) / "d") as dep:
        split = dep.cpus
        for i in range(args.alternations):
            order = list(sides) if i % 2 == 0 else list(reversed(sides))
            for name in order:
                results[name].append(sides[name](dep, Path(tmp), i, args.rate, args.seconds,
                                                 args.seed))

    print(f"\nmachine: {os.cpu_count()} CPUs; {split.note}: clients on CPU "
          f"{sorted(split.generator or [])}, {args.architecture} on CPU {sorted(split.system or [])}; "
          f"GET /availability through Caddy, Poisson {args.rate:g} req/s, {args.seconds:g} s "
          f"measured after {WARMUP_S:g} s of warm-up, {args.alternations} alternations\n")
    print("| client | run | p50 ms | p99 ms | requests | errors | late starts | start lag p99 ms "
          "| client CPU |")
    print("|---|---|---|---|---|---|---|---|---|")
    pooled = {name: histogram() for name in sides}
    for name in sides:
        for i, result in enumerate(results[name]):
            hist, cells = describe(result)
            pooled[name].add(hist)
            print(f"| {name} | {i} | {cells} |")
    print()
    for i in range(args.alternations):
        h = HdrHistogram.decode(results["harness"][i]["histogram"].encode())
        o = HdrHistogram.decode(results["independent"][i]["histogram"].encode())
        print(f"alternation {i}: harness / independent p50 {ratio(h, o, 50):.3f}, "
              f"p99 {ratio(h, o, 99):.3f}")
    for pct in (50, 99):
        value = ratio(pooled["harness"], pooled["independent"], pct)
        verdict = "agree" if abs(value - 1) <= AGREEMENT else "DISAGREE"
        print(f"pooled p{pct}: harness {pooled['harness'].get_value_at_percentile(pct) / 1000:.2f} ms, "
              f"independent {pooled['independent'].get_value_at_percentile(pct) / 1000:.2f} ms, "
              f"ratio {value:.3f}: {verdict} within {AGREEMENT:.0%}")


if __name__ == "__main__":
    main()
