"""The registry of architectures: what each one runs, how it is deployed, modelled and checked.

Every layer that differs by architecture looks it up here instead of naming architectures: deploy
starts a spec's *kind*, the simulation runs its `sim_model`, the checker reads with its `reader`.
A new architecture of an existing kind is one entry, in `BUILT_IN` or in a TOML file named by
ARCHBENCH_ARCHITECTURES (validated like a scenario: an unknown key is named by its path), e.g.

    [monolith-solo]
    app = "monolith"        # python -m apps.monolith; its GET /health answers "monolith"
    kind = "single"
    manifests = "apps/monolith"
    workers = 1
"""

from __future__ import annotations

import functools
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, model_validator

from harness.config.errors import HarnessError, describe

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENV_VAR = "ARCHBENCH_ARCHITECTURES"
# Processes every deployment has besides its application: what a fault can also hit.
SHARED_DEPLOYABLES = ("postgres", "payment_provider", "caddy")
# single: one app process (its workers) and one database; services: one process and one
# database per manifest, talking through NATS JetStream.
Kind = Literal["single", "services"]
INFRASTRUCTURE: dict[str, tuple[str, ...]] = {"single": (), "services": ("nats",)}
_MANIFESTS = {"single": "manifest.toml", "services": "*/manifest.toml"}  # under `manifests`


class ArchitectureSpec(BaseModel):
    """One architecture; `sim_model` and `reader` default to its kind's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    app: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="the package apps.<app> it runs; "
                                                               "its GET /health answers this name")
    kind: Kind
    manifests: Path = Field(description="folder of its manifest.toml files, from the project root")
    workers: int | None = Field(None, ge=1, le=64,
                                description="single: fixed worker count; None: the scenario's "
                                            "replicas.monolith_workers")
    sim_model: str = ""
    reader: str = ""
    description: str = ""

    @model_validator(mode="before")
    @classmethod
    def _kind_defaults(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("kind") in ("single", "services"):
            default = {"single": "monolith", "services": "microservices"}[data["kind"]]
            data = {"sim_model": default, "reader": data["kind"], **data}
        return data

    @property
    def manifests_dir(self) -> Path:
        return PROJECT_ROOT / self.manifests

    def manifest_files(self) -> list[Path]:
        """Its manifests: the folder's own (single) or one per service sub-folder (services)."""
        return sorted(self.manifests_dir.glob(_MANIFESTS[self.kind]))

    @property
    def deployables(self) -> tuple[str, ...]:
        """Every process of its deployment: what a fault can target."""
        return (*self.components, *INFRASTRUCTURE[self.kind], *SHARED_DEPLOYABLES)

    @property
    def components(self) -> tuple[str, ...]:
        """Its application processes, named by their manifests."""
        return tuple(str(raw["name"]) for raw in _manifests(self.manifests_dir, self.kind))

    def databases(self) -> dict[str, str]:
        """component → the database its manifest names."""
        return {str(raw["name"]): str(raw["database"])
                for raw in _manifests(self.manifests_dir, self.kind)}

    def declared_tables(self) -> dict[str, tuple[str, ...]]:
        """database → the tables its manifests declare."""
        out: dict[str, tuple[str, ...]] = {}
        for raw in _manifests(self.manifests_dir, self.kind):
            out[raw["database"]] = (*out.get(raw["database"], ()), *raw["tables"])
        return out


@functools.cache
def _manifests(folder: Path, kind: str) -> tuple[dict[str, Any], ...]:
    """The manifests of an architecture, read once per process (they do not change under it)."""
    pattern = _MANIFESTS[kind]
    found = tuple(_read_toml(p) for p in sorted(folder.glob(pattern)))
    if not found:
        raise HarnessError(f"no {pattern} under {folder}")
    return found


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise HarnessError(f"cannot read {path}: {exc}") from None


BUILT_IN: tuple[ArchitectureSpec, ...] = (
    ArchitectureSpec(name="monolith", app="monolith", kind="single",
                     manifests=Path("apps/monolith"),
                     description="one process, one database, in-process calls"),
    ArchitectureSpec(name="microservices", app="microservices", kind="services",
                     manifests=Path("apps/microservices"),
                     description="event-driven services, one database each, over NATS JetStream"),
)


def registry(extra_file: str | None = None) -> dict[str, ArchitectureSpec]:
    """Every architecture by name: the built-in ones, then those of `extra_file` (default:
    $ARCHBENCH_ARCHITECTURES)."""
    return _registry(os.environ.get(ENV_VAR, "") if extra_file is None else extra_file)


@functools.cache
def _registry(extra_file: str) -> dict[str, ArchitectureSpec]:
    specs = {spec.name: spec for spec in BUILT_IN}
    if extra_file:
        for spec in read_extra(Path(extra_file)):
            if spec.name in specs:
                raise HarnessError(f"{extra_file}: architecture {spec.name!r} is already "
                                   "registered")
            specs[spec.name] = spec
    return specs


def read_extra(path: Path) -> list[ArchitectureSpec]:
    """The entries of a registry file: one table per architecture, its name the table's key."""
    raw = _read_toml(path)
    specs = []
    for name, entry in raw.items():
        if not isinstance(entry, dict):
            raise HarnessError(f"{path}: {name}: expected a table of keys")
        try:
            specs.append(ArchitectureSpec.model_validate({"name": name, **entry}))
        except pydantic.ValidationError as exc:
            raise HarnessError(f"{path}: {describe(exc, within=(name,))}") from None
    return specs


def names() -> tuple[str, ...]:
    return tuple(registry())


def spec_of(name: str) -> ArchitectureSpec:
    """The named architecture; an unknown name is a HarnessError naming the known ones."""
    specs = registry()
    if name not in specs:
        raise HarnessError(f"unknown architecture {name!r}; known: {', '.join(specs)}")
    return specs[name]


def find(name: str) -> ArchitectureSpec | None:
    """The named architecture, or None for one this installation does not know (an old run's)."""
    return registry().get(name)
