"""Serving an app: the same uvicorn stack and options for every process of every architecture."""

from __future__ import annotations

import json

import uvicorn

from apps.booking.dataset import DatasetSpec


def serve(factory: str, host: str, port: int, workers: int = 1) -> None:
    """Serve the app `factory` ("module:function") builds, until the process is told to stop."""
    uvicorn.run(
        factory, factory=True, host=host, port=port, workers=workers, loop="uvloop",
        http="httptools", access_log=False, log_level="warning", timeout_graceful_shutdown=5,
    )


def dataset_spec(text: str) -> DatasetSpec:
    """The `--dataset` argument of every `init` command: DatasetSpec fields as JSON."""
    return DatasetSpec.from_mapping(json.loads(text))
