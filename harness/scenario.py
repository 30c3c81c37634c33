"""Scenario files: YAML validated by a pydantic schema; unknown keys and wrong types are rejected
with the dotted path of the key and what was expected.

This holds the parts a deployment needs (dataset, payment provider, workers); the workload, load
model and SLO sections arrive with the benchmark runner.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness.errors import HarnessError

Architecture = Literal["monolith", "microservices"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Dataset(_Strict):
    hotels: int = Field(20, ge=1, le=100_000)
    room_types_per_hotel: int = Field(3, ge=1, le=50)
    units_per_room_type: int = Field(10, ge=1, le=10_000)
    start_date: date = date(2027, 1, 1)
    horizon_days: int = Field(60, ge=1, le=3660)
    seed: int = 0


class PaymentProvider(_Strict):
    latency: str = "fixed:0.005"
    decline_rate: float = Field(0.0, ge=0.0, le=1.0)
    seed: int = 0

    @field_validator("latency")
    @classmethod
    def _known_distribution(cls, value: str) -> str:
        kind, _, params = value.partition(":")
        expected = {"none": 0, "fixed": 1, "exponential": 1, "lognormal": 2}
        if kind not in expected:
            raise ValueError("expected none, fixed:S, exponential:MEAN_S or lognormal:MEDIAN_S,SIGMA")
        numbers = [p for p in params.split(",") if p] if params else []
        if len(numbers) != expected[kind]:
            raise ValueError(f"{kind} takes {expected[kind]} number(s)")
        try:
            values = [float(n) for n in numbers]
        except ValueError:
            raise ValueError(f"{kind}: parameters must be numbers") from None
        if any(v < 0 for v in values):
            raise ValueError("parameters must not be negative")
        return value


class Replicas(_Strict):
    monolith_workers: int = Field(1, ge=1, le=64)


class Scenario(_Strict):
    name: str = "default"
    description: str = ""
    architectures: tuple[Architecture, ...] = ("monolith",)
    dataset: Dataset = Dataset()
    payment_provider: PaymentProvider = PaymentProvider()
    replicas: Replicas = Replicas()


def load_scenario(path: Path | None) -> Scenario:
    """Parse and validate a scenario file; no file means every default."""
    if path is None:
        return Scenario()
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise HarnessError(f"cannot read scenario {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise HarnessError(f"{path}: not valid YAML: {exc}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise HarnessError(f"{path}: expected a mapping of keys at the top level")
    try:
        return Scenario.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise HarnessError(f"{path}: {describe(exc)}") from None


def describe(exc: pydantic.ValidationError) -> str:
    """One line per problem: `dataset.hotels: Input should be greater than or equal to 1`."""
    problems = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err["loc"]) or "(top level)"
        message = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        problems.append(f"{where}: {message}")
    return "; ".join(problems)
