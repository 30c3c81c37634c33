"""Serving an app: the same uvicorn stack and options for every process of every architecture."""

from __future__ import annotations

import argparse
import json

import uvicorn

from apps.booking.dataset import DatasetSpec


def serve(factory: str, host: str, port: int, workers: int = 1) -> None:
    """Serve the app `factory` ("module:function") builds, until the process is told to stop."""
    uvicorn.run(
        factory, factory=True, host=host, port=port, workers=workers, loop="uvloop",
        http="httptools", access_log=False, log_level="warning", timeout_graceful_shutdown=5,
        # no app reads the client's address (behind Caddy it would be Caddy's anyway): uvicorn's
        # X-Forwarded-For middleware would only cost every request a wrapper and a header scan.
        proxy_headers=False, server_header=False,
    )


def add_init_and_serve(commands: argparse._SubParsersAction, init_help: str, serve_help: str
                       ) -> argparse.ArgumentParser:
    """The `init` and `serve` commands every app has, as the harness calls them; returns
    `serve`'s parser for an app's own options."""
    init = commands.add_parser("init", help=init_help)
    init.add_argument("--dsn", required=True)
    init.add_argument("--dataset", default="{}", help="DatasetSpec fields as JSON")
    serve = commands.add_parser("serve", help=serve_help)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, required=True)
    return serve


def dataset_spec(text: str) -> DatasetSpec:
    """The `--dataset` argument of every `init` command: DatasetSpec fields as JSON."""
    return DatasetSpec.from_mapping(json.loads(text))
