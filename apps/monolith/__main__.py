"""`python -m apps.monolith init|serve`: prepare the database, or serve the HTTP contract."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

import asyncpg

from apps.booking.dataset import DatasetSpec
from apps.booking.errors import DomainError
from apps.monolith.catalog import seed
from apps.monolith.schema import migrate
from apps.platform import launch
from apps.platform.catalog import DatasetMismatch


async def _init(dsn: str, spec: DatasetSpec) -> bool:
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        return await seed(conn, spec)
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.monolith")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = launch.add_init_and_serve(sub, "create the schema and load the dataset (idempotent)",
                                      "serve the HTTP contract (ARCHBENCH_DSN etc. from env)")
    serve.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)

    if args.command == "init":
        try:
            loaded = asyncio.run(_init(args.dsn, launch.dataset_spec(args.dataset)))
        except (DomainError, DatasetMismatch, TypeError, ValueError) as exc:
            print(f"monolith init: {exc}", file=sys.stderr)
            return 2
        print("dataset loaded" if loaded else "dataset already present")
        return 0

    if args.workers < 1:
        parser.error("--workers must be at least 1")
    os.environ.setdefault("ARCHBENCH_WORKERS", str(args.workers))
    launch.serve("apps.monolith.bootstrap:create_app", args.host, args.port, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
