"""Which ASGI stack: a trivial JSON endpoint on one uvicorn worker (uvloop, httptools), per stack.

Usage: .venv/bin/python benchmarks/asgi_stacks.py [--duration 5] [--repeats 3]
FastAPI is not a dependency of archbench; install it into the interpreter running this script to
include it (`pip install fastapi`), otherwise it is reported as skipped. Needs wrk.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from harness.deploy.supervisor import free_port

HERE = Path(__file__).resolve().parent
STACKS = {"starlette+orjson": "starlette_orjson", "fastapi": "fastapi_default"}


def serve(factory: str, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), f"asgi_apps:{factory}",
         "--factory", "--port", str(port), "--loop", "uvloop", "--http", "httptools",
         "--no-access-log", "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/hello", timeout=0.5).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"{factory} did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    stacks = {name: f for name, f in STACKS.items()
              if name != "fastapi" or importlib.util.find_spec("fastapi")}
    servers = {}
    try:
        for name, factory in stacks.items():
            port = free_port()
            servers[name] = (serve(factory, port), port)
        rates: dict[str, list[float]] = {name: [] for name in stacks}
        for _ in range(args.repeats):
            for name, (_, port) in servers.items():
                out = subprocess.run(["wrk", "-t1", "-c32", f"-d{args.duration}s",
                                      f"http://127.0.0.1:{port}/hello"],
                                     capture_output=True, text=True, check=True).stdout
                rates[name].append(float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)))
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(10)
    base = statistics.median(rates["starlette+orjson"])
    for name, values in rates.items():
        print(f"{name:18} {statistics.median(values):>9,.0f} req/s "
              f"(min {min(values):,.0f}, max {max(values):,.0f}) "
              f"{statistics.median(values) / base:.2f}x starlette+orjson")
    for name in STACKS.keys() - stacks.keys():
        print(f"{name:18} skipped: not installed")


if __name__ == "__main__":
    main()
