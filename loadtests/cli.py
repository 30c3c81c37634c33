"""Command line: `python -m loadtests --host BASE_URL --plan PLAN.json --out DIR`.

Exit codes: 0 done, 2 bad plan or arguments (one line naming the key), 130 interrupted (outputs
still written, with "interrupted": true)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from urllib.parse import urlparse

from loadtests.plan import Plan, PlanError, parse_plan

EXIT_BAD_PLAN = 2
EXIT_INTERRUPTED = 130


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m loadtests", description=__doc__)
    parser.add_argument("--host", required=True, help="base URL of the system under test")
    parser.add_argument("--plan", required=True, type=Path, help="plan JSON file")
    parser.add_argument("--out", required=True, type=Path, help="output directory (created)")
    return parser.parse_args(argv)


def load_plan(path: Path) -> Plan:
    try:
        raw = json.loads(path.read_text())
    except OSError as e:
        raise PlanError("plan", f"cannot read {path}: {e.strerror}") from e
    except ValueError as e:
        raise PlanError("plan", f"{path} is not valid JSON: {e}") from e
    return parse_plan(raw)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    host = urlparse(args.host)
    if host.scheme not in ("http", "https") or not host.netloc:
        print(f"loadtests: --host: must be an http(s) base URL, got {args.host!r}", file=sys.stderr)
        return EXIT_BAD_PLAN
    try:
        plan = load_plan(args.plan)
    except PlanError as e:
        print(f"loadtests: bad plan: {e}", file=sys.stderr)
        return EXIT_BAD_PLAN

    import gevent  # only now: gevent stays out of the processes that merely import this module
    from gevent.event import Event

    from loadtests.driver import run

    stop = Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(signum, stop.set)
    interrupted = run(plan, args.host.rstrip("/"), args.out, stop)
    return EXIT_INTERRUPTED if interrupted else 0
