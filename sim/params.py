"""The parameters a model runs on — a calibration — and its file: CPU demand per visit and
background CPU of every component, network, broker and database delays, and the latency each
operation shows that no modelled component accounts for.

The file is YAML a person can read and edit (`calibration.yaml` in a run folder); `archbench sim
--calibration` takes the file or the run folder holding it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from harness.config.loading import read_yaml
from sim.errors import SimError

# the simulation models this package implements, by name; a calibration holds the parameters of
# each, and the registry (harness.config.architectures) names the model of every architecture
ARCHITECTURES = ("monolith", "microservices")
COMPONENTS = {
    "monolith": ("generator", "caddy", "monolith", "postgres", "payment_provider"),
    "microservices": ("generator", "caddy", "booking", "inventory", "payment", "notification",
                      "query", "postgres", "nats", "payment_provider"),
}
OPERATIONS = ("search_availability", "list_hotels", "book", "view_booking",
              "list_customer_bookings", "cancel")
LATENCIES = (*OPERATIONS, "book_e2e")


@dataclass(frozen=True)
class Component:
    """A process: CPU-seconds per visit (a request handled, a statement run, a message moved),
    CPU it burns with no load (cores), and the coefficient of variation of one burst
    (1: exponential, 0: fixed)."""

    demand_s: float
    background_cores: float = 0.0
    cv: float = 1.0


@dataclass(frozen=True)
class Residual:
    """Latency of an operation that no modelled component accounts for (client and framework
    overhead, scheduling, I/O waits): lognormal with this median (s) and shape sigma; 0 = none."""

    median_s: float = 0.0
    sigma: float = 0.0


@dataclass(frozen=True)
class ArchParams:
    components: dict[str, Component]
    residuals: dict[str, Residual] = field(default_factory=dict)

    def residual(self, operation: str) -> Residual:
        return self.residuals.get(operation, Residual())


@dataclass(frozen=True)
class Calibration:
    hop_s: float  # one-way network hop between two processes
    broker_persist_s: float  # JetStream: store before the publish is acknowledged
    db_commit_s: float  # PostgreSQL: WAL flush at commit
    architectures: dict[str, ArchParams]
    source: dict[str, Any] = field(default_factory=dict)

    def arch(self, name: str) -> ArchParams:
        try:
            return self.architectures[name]
        except KeyError:
            raise SimError(f"the calibration has no parameters for {name}") from None

    def with_arch(self, name: str, params: ArchParams) -> Calibration:
        return replace(self, architectures={**self.architectures, name: params})


def to_dict(cal: Calibration) -> dict[str, Any]:
    return {
        "source": cal.source,
        "hop_ms": round(cal.hop_s * 1e3, 6),
        "broker_persist_ms": round(cal.broker_persist_s * 1e3, 6),
        "db_commit_ms": round(cal.db_commit_s * 1e3, 6),
        "architectures": {
            arch: {
                "components": {
                    name: {"demand_ms": round(c.demand_s * 1e3, 6),
                           "background_cores": round(c.background_cores, 6), "cv": c.cv}
                    for name, c in params.components.items()
                },
                "residuals": {
                    op: {"median_ms": round(r.median_s * 1e3, 6), "sigma": round(r.sigma, 6)}
                    for op, r in params.residuals.items()
                },
            }
            for arch, params in cal.architectures.items()
        },
    }


HEADER = """\
# archbench calibration: the parameters of the simulation models (sim/), in milliseconds and cores.
# Edit freely; `archbench sim SCENARIO --calibration THIS_FILE` uses it.
# components.<name>.demand_ms: CPU per visit (HTTP request handled, SQL statement, message moved),
#   from the service demand law: (measured CPU-seconds - background) / visits.
# background_cores: CPU the process burns with no load. cv: variability of one CPU burst.
# residuals.<operation>: lognormal latency no modelled component accounts for (median, sigma).
"""


def save(cal: Calibration, path: Path) -> Path:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(HEADER + yaml.safe_dump(to_dict(cal), sort_keys=False))
    tmp.replace(path)
    return path


def load(path: Path) -> Calibration:
    """A calibration file, or a run folder holding `calibration.yaml`."""
    path = Path(path)
    if path.is_dir():
        path = path / "calibration.yaml"
    raw = read_yaml(path, "calibration")
    try:
        return from_dict(raw)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SimError(f"{path}: not a calibration file: {exc}") from None


def from_dict(raw: Any) -> Calibration:
    if not isinstance(raw, dict):
        raise ValueError("expected a mapping at the top level")
    architectures = {}
    for arch, body in (raw.get("architectures") or {}).items():
        if arch not in ARCHITECTURES:
            raise ValueError(f"architectures.{arch}: unknown architecture")
        components = {}
        for name, c in body["components"].items():
            if name not in COMPONENTS[arch]:
                raise ValueError(f"architectures.{arch}.components.{name}: unknown component "
                                 f"(expected one of {', '.join(COMPONENTS[arch])})")
            components[name] = Component(
                _number(c["demand_ms"], f"{arch}.{name}.demand_ms") / 1e3,
                _number(c.get("background_cores", 0.0), f"{arch}.{name}.background_cores"),
                _number(c.get("cv", 1.0), f"{arch}.{name}.cv"))
        missing = set(COMPONENTS[arch]) - set(components)
        if missing:
            raise ValueError(f"architectures.{arch}.components: missing {', '.join(sorted(missing))}")
        residuals = {}
        for op, r in (body.get("residuals") or {}).items():
            if op not in LATENCIES:
                raise ValueError(f"architectures.{arch}.residuals.{op}: unknown operation")
            residuals[op] = Residual(_number(r["median_ms"], f"{arch}.{op}.median_ms") / 1e3,
                                     _number(r.get("sigma", 0.0), f"{arch}.{op}.sigma"))
        architectures[arch] = ArchParams(components, residuals)
    return Calibration(
        hop_s=_number(raw.get("hop_ms", 0.0), "hop_ms") / 1e3,
        broker_persist_s=_number(raw.get("broker_persist_ms", 0.0), "broker_persist_ms") / 1e3,
        db_commit_s=_number(raw.get("db_commit_ms", 0.0), "db_commit_ms") / 1e3,
        architectures=architectures,
        source=dict(raw.get("source") or {}),
    )


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or value < 0:
        raise ValueError(f"{where}: expected a number >= 0, got {value!r}")
    return float(value)


DEFAULT_PATH = Path(__file__).with_name("default_calibration.yaml")


def default() -> Calibration:
    """The calibration shipped with archbench (measured on its reference machine; see the file)."""
    return load(DEFAULT_PATH)

