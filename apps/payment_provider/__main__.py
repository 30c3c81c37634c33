"""Command line: `python -m apps.payment_provider --port N [--latency SPEC] ...`."""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from apps.payment_provider.app import create_app
from apps.payment_provider.config import ProviderConfig
from apps.payment_provider.latency import (
    DEFAULT_LATENCY_SPEC,
    SPEC_FORMS,
    LatencyDistribution,
    LatencySpecError,
    parse_latency_spec,
)


def _latency(text: str) -> LatencyDistribution:
    try:
        return parse_latency_spec(text)
    except LatencySpecError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= rate <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not within [0, 1]")
    return rate


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not within 1..65535")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m apps.payment_provider",
        description="Simulated external card processor (authorize, refund, ledger).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, required=True, help="port to bind")
    parser.add_argument(
        "--latency",
        type=_latency,
        default=DEFAULT_LATENCY_SPEC,
        metavar="SPEC",
        help=f"latency per authorize/refund: {SPEC_FORMS} (default {DEFAULT_LATENCY_SPEC})",
    )
    parser.add_argument(
        "--decline-rate", type=_rate, default=0.0, metavar="F", help="fraction declined, 0..1"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for latency and declines")
    parser.add_argument(
        "--ledger", type=Path, default=None, metavar="PATH", help="JSON-lines ledger to keep"
    )
    return parser


def config_from_args(argv: Sequence[str] | None = None) -> ProviderConfig:
    args = build_parser().parse_args(argv)
    return ProviderConfig(
        host=args.host,
        port=args.port,
        latency=args.latency,
        decline_rate=args.decline_rate,
        seed=args.seed,
        ledger_path=args.ledger,
    )


def main(argv: Sequence[str] | None = None) -> None:
    config = config_from_args(argv)
    uvicorn.run(
        create_app(config),
        host=config.host,
        port=config.port,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        workers=1,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
