"""Service manifests: what each microservice declares about itself, read as files (never imported)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from harness.config.errors import HarnessError
from harness.deploy.gateway import Route

SERVICES_DIR = Path(__file__).resolve().parents[2] / "apps" / "microservices"
# Start order: consumers of an event exist before its producer takes traffic.
START_ORDER = ("inventory", "payment", "notification", "query", "booking")
_ROUTE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) (/\S*)$")


@dataclass(frozen=True)
class Manifest:
    name: str
    database: str
    stateful: bool
    tables: tuple[str, ...]
    tables_justification: str
    consumes: tuple[str, ...]
    emits: tuple[str, ...]
    routes: tuple[str, ...]
    replicas_safe: bool

    def gateway_routes(self, upstream: str) -> list[Route]:
        """Caddy routes for the contract routes this service serves; path parameters become *."""
        out = []
        for route in self.routes:
            match = _ROUTE.match(route)
            if match is None:
                raise HarnessError(f"{self.name} manifest: bad route {route!r}")
            method, path = match.groups()
            out.append(Route(upstreams=(upstream,), methods=(method,),
                             paths=(re.sub(r"\{[^}]+\}", "*", path),)))
        return out


def load_manifest(path: Path) -> Manifest:
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise HarnessError(f"cannot read manifest {path}: {exc}") from exc
    expected = set(Manifest.__dataclass_fields__)
    if set(raw) != expected:
        raise HarnessError(f"{path}: keys {sorted(raw)} differ from {sorted(expected)}")
    return Manifest(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})


def load_manifests(services_dir: Path = SERVICES_DIR) -> list[Manifest]:
    found = {p.parent.name: load_manifest(p) for p in services_dir.glob("*/manifest.toml")}
    missing = [s for s in START_ORDER if s not in found]
    if missing:
        raise HarnessError(f"no manifest for service(s) {', '.join(missing)} in {services_dir}")
    return [found[s] for s in START_ORDER] + [m for n, m in sorted(found.items())
                                               if n not in START_ORDER]
