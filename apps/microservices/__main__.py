"""`python -m apps.microservices SERVICE init|serve|replay`: one entry point for every service.

The service's module is imported by name at run time, so this launcher depends on no service.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
from pathlib import Path

from apps.booking.errors import DomainError
from apps.microservices.common.runtime import initialise
from apps.platform import launch
from apps.platform.catalog import DatasetMismatch

SERVICES = ("booking", "inventory", "payment", "notification", "query")


def manifest_path(service: str) -> Path:
    return Path(__file__).resolve().parent / service / "manifest.toml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.microservices")
    parser.add_argument("service", choices=SERVICES)
    sub = parser.add_subparsers(dest="command", required=True)
    launch.add_init_and_serve(sub, "create the service's tables, load its reference data",
                              "run the service (ARCHBENCH_DSN, ARCHBENCH_NATS_URL, ...)")
    replay = sub.add_parser("replay", help="rebuild state from the JetStream log and compare")
    replay.add_argument("--dsn", required=True)
    replay.add_argument("--nats", required=True)
    args = parser.parse_args(argv)
    module = importlib.import_module(f"apps.microservices.{args.service}.service")

    if args.command == "init":
        try:
            asyncio.run(initialise(module.DEFINITION, args.dsn, launch.dataset_spec(args.dataset)))
        except (DomainError, DatasetMismatch, TypeError, ValueError) as exc:
            print(f"{args.service} init: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.command == "replay":
        if not hasattr(module, "replay"):
            print(f"{args.service} has no state rebuilt from the log", file=sys.stderr)
            return 2
        report = asyncio.run(module.replay(args.dsn, args.nats))
        print(json.dumps(report))
        return 0 if report.get("differences", 0) == 0 else 1
    launch.serve(f"apps.microservices.{args.service}.service:create", args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
