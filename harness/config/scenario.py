"""Scenario files: YAML validated by a pydantic schema; unknown keys and wrong types are rejected
with the dotted path of the key and what was expected.

A scenario names what to deploy (architectures, dataset, payment provider, workers), the workload
mix, the load model (open: a Poisson or fixed rate; closed: users with think time; `steps` for a
sweep), duration, warm-up, repeats, the SLO, the seed, faults to inject under load, and which CPUs
the load generator and the system under test run on.
"""

from __future__ import annotations

import itertools
import math
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from harness.config import architectures
from harness.config.cpus import Cpus
from harness.config.errors import HarnessError


def _registered(name: str) -> str:
    try:
        architectures.spec_of(name)
    except HarnessError as exc:
        raise ValueError(str(exc)) from None
    return name


# an architecture's name, validated against the registry (harness.config.architectures)
Architecture = Annotated[str, AfterValidator(_registered)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Dataset(_Strict):
    hotels: int = Field(20, ge=1, le=100_000)
    room_types_per_hotel: int = Field(3, ge=1, le=50)
    units_per_room_type: int = Field(10, ge=1, le=10_000)
    start_date: date = date(2027, 1, 1)
    horizon_days: int = Field(60, ge=1, le=3660)
    seed: int = 0


def check_latency(value: str) -> str:
    """`none`, `fixed:S`, `exponential:MEAN_S` or `lognormal:MEDIAN_S,SIGMA`."""
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


class PaymentProvider(_Strict):
    latency: str = "fixed:0.005"
    decline_rate: float = Field(0.0, ge=0.0, le=1.0)
    seed: int = 0

    @field_validator("latency")
    @classmethod
    def _known_distribution(cls, value: str) -> str:
        return check_latency(value)


class Replicas(_Strict):
    monolith_workers: int = Field(1, ge=1, le=64)


class Microservices(_Strict):
    """Settings of the event-driven services that change how they behave under faults."""

    ack_wait_s: float = Field(3.0, ge=0.5, le=3600,
                              description="how long JetStream waits for an event's ack before "
                                          "redelivering it: what a consumer's crash costs in delay "
                                          "(consumers mark slow events in progress every third of it)")


Operation = Literal["search_availability", "list_hotels", "book", "view_booking",
                    "list_customer_bookings", "cancel"]
OPERATIONS: tuple[str, ...] = ("search_availability", "list_hotels", "book", "view_booking",
                               "list_customer_bookings", "cancel")


class Workload(_Strict):
    """Relative weights of the operations; `book` waits for the terminal status (book_e2e)."""

    weights: dict[Operation, float] = Field(default_factory=lambda: {
        "search_availability": 50, "list_hotels": 10, "book": 20, "view_booking": 10,
        "list_customer_bookings": 5, "cancel": 5})
    poll_interval_s: float = Field(0.005, gt=0, le=1, description="pause between plain polls")
    poll_wait_s: float = Field(
        5.0, ge=0, le=10,
        description="each poll of a pending booking asks the server to answer when it changes, "
                    "waiting up to this long (RFC 7240 Prefer: wait); 0: plain polls every "
                    "poll_interval_s")

    @field_validator("weights")
    @classmethod
    def _some_positive(cls, weights: dict[str, float]) -> dict[str, float]:
        if any(w < 0 for w in weights.values()) or not any(w > 0 for w in weights.values()):
            raise ValueError("weights must be >= 0 with at least one > 0")
        return weights


class Load(_Strict):
    model: Literal["open", "closed"] = "open"
    arrival: Literal["poisson", "fixed"] = "poisson"
    rate: float = Field(20.0, gt=0, le=100_000, description="open loop: requests per second")
    users: int = Field(10, ge=1, le=10_000, description="closed loop: concurrent users")
    think_time_s: tuple[float, float] = (0.5, 1.5)
    steps: tuple[float, ...] = Field((), description="a sweep: rates (open) or users (closed)")
    max_concurrency: int = Field(500, ge=1, le=20_000)

    @field_validator("think_time_s")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[0] < 0 or value[1] < value[0]:
            raise ValueError("expected [min, max] with 0 <= min <= max")
        return value

    @field_validator("steps")
    @classmethod
    def _positive_steps(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(v <= 0 for v in value):
            raise ValueError("every step must be > 0")
        return value

    def levels(self) -> tuple[float, ...]:
        """The load level of each step: the sweep, or the single rate / user count."""
        if self.steps:
            return self.steps
        return (self.rate,) if self.model == "open" else (float(self.users),)


class Slo(_Strict):
    operation: Literal["book_e2e", "search_availability", "list_hotels", "book", "view_booking",
                       "list_customer_bookings", "cancel"] = "book_e2e"
    p99_ms: float = Field(500.0, gt=0)


# A step whose result depends on the code and the scenario but not on the run's measurements:
# true: reuse what an earlier run measured for the same code and settings (.archbench-cache/),
# else measure it now and keep it; "cached": reuse it, else leave it out and say so; false: never.
Reuse = bool | Literal["cached"]


class Audit(_Strict):
    """`archbench run` audits both architectures after its runs (what `archbench audit` does)."""

    enabled: bool = True
    live: Reuse = Field(True, description="deploy each architecture again to measure runtime and "
                                          "availability coupling (reused from an earlier run of "
                                          "the same code and settings); false: static audit only; "
                                          "cached: only when an earlier run measured it")
    samples: int = Field(10, ge=1, le=1000, description="operations per runtime-probe batch")


def all_deployables() -> tuple[str, ...]:
    """What a fault can hit: every process of every registered architecture's deployment."""
    return tuple(dict.fromkeys(d for spec in architectures.registry().values()
                               for d in spec.deployables))


class Fault(_Strict):
    """One fault injected while the load runs, timed from the load's start (warm-up included).

    kill: SIGKILL the target and its children; with `restart`, start it again after `duration_s`.
    pause: SIGSTOP the target and its children for `duration_s`, then SIGCONT.
    restart: stop it politely and start it again (a deploy); `duration_s` is unused.
    slow: the payment provider answers after `latency` for `duration_s`, then as before.
    A fault applies to each architecture of the scenario that has its target."""

    at_s: float = Field(ge=0, description="seconds after the load starts")
    action: Literal["kill", "pause", "restart", "slow"]
    target: str
    duration_s: float = Field(0.0, ge=0, le=3600)
    restart: bool = Field(True, description="kill: start the target again after duration_s")
    # validated even when absent, so that a slow fault without it names `faults.N.latency`
    latency: str | None = Field(None, validate_default=True,
                                description="slow: the provider's latency meanwhile")

    @field_validator("target")
    @classmethod
    def _known_target(cls, value: str) -> str:
        known = all_deployables()
        if value not in known:
            raise ValueError(f"unknown deployable {value!r}; known: {', '.join(known)}")
        return value

    @field_validator("latency")
    @classmethod
    def _latency(cls, value: str | None, info: ValidationInfo) -> str | None:
        action = info.data.get("action")  # absent when the action itself is invalid
        if value is None:
            if action == "slow":
                raise ValueError("a slow fault needs a latency, e.g. fixed:0.5")
            return None
        if action is not None and action != "slow":
            raise ValueError(f"applies to slow faults only, not {action}")
        return check_latency(value)

    @model_validator(mode="after")
    def _consistent(self) -> Fault:
        if self.action == "slow" and self.target != "payment_provider":
            raise ValueError("slow applies to the payment_provider only")
        if self.action in ("pause", "slow") and self.duration_s <= 0:
            raise ValueError(f"a {self.action} fault needs duration_s > 0")
        if self.action == "restart" and self.duration_s > 0:
            raise ValueError("a restart takes no duration_s: the target is stopped and started "
                             "again at once")
        if self.action != "kill" and "restart" in self.model_fields_set:
            raise ValueError(f"restart applies to kill faults only, not {self.action}")
        return self

    @property
    def end_s(self) -> float:
        """When the fault is lifted, planned (a kill that is never restarted: the run's end)."""
        if self.action == "kill" and not self.restart:
            return math.inf
        return self.at_s + (0.0 if self.action == "restart" else self.duration_s)

    def applies_to(self, architecture: str) -> bool:
        spec = architectures.find(architecture)
        return spec is not None and self.target in spec.deployables


def _component(name: str) -> str:
    known = tuple(dict.fromkeys(c for spec in architectures.registry().values()
                                for c in spec.components))
    if name not in known:
        raise ValueError(f"unknown service {name!r}; known: {', '.join(known)}")
    return name


# an application process of a registered architecture (the monolith, a service)
SimService = Annotated[str, AfterValidator(_component)]


class WhatIf(_Strict):
    """One dimension to sweep in the simulation: a dotted scenario key and the values to try."""

    parameter: str = Field(description="e.g. sim.network_rtt_ms, payment_provider.latency")
    values: tuple[float | int | str, ...] = Field(min_length=1)


class Sim(_Strict):
    """What the simulation models beyond the measured deployment (`archbench sim`)."""

    enabled: bool = Field(True, description="archbench run: calibrate and simulate after the runs")
    engine_validation: Reuse = Field(True, description="archbench run: the engine against queueing "
                                                       "theory (reused for the same sim/ code); "
                                                       "cached: only when an earlier run made it")
    hosts: int = Field(1, ge=1, le=256, description="machines the processes are spread over")
    cores_per_host: float = Field(2.0, gt=0, le=1024)
    replicas: dict[SimService, int] = Field(default_factory=dict,
                                            description="instances per service (monolith: per worker set)")
    network_rtt_ms: float | None = Field(None, ge=0, le=10_000,
                                         description="round trip between two processes; None: calibrated")
    broker_latency_ms: float | None = Field(None, ge=0, le=10_000,
                                            description="JetStream store per publish; None: calibrated")
    payment_latency: str | None = Field(None, description="overrides payment_provider.latency in the model")
    duration_s: float = Field(30.0, gt=0, le=36_000, description="simulated seconds measured per point")
    warmup_s: float = Field(5.0, ge=0, le=36_000)
    replications: int = Field(5, ge=1, le=200)
    rates: tuple[float, ...] = Field((), description="load levels to simulate; default: the load's")
    whatif: WhatIf | None = None
    saturation_search: bool = Field(True, description="search each architecture's saturation rate")
    generator_on_host: bool = Field(True, description="the load generator shares host 0 (as "
                                                      "measured when the run pinned nothing)")
    generator_cores: float | None = Field(None, gt=0, le=1024,
                                          description="cores of the generator's own host when it "
                                                      "is not on host 0; None: as many as it uses")

    @field_validator("replicas")
    @classmethod
    def _positive_replicas(cls, value: dict[str, int]) -> dict[str, int]:
        if any(not 1 <= n <= 64 for n in value.values()):
            raise ValueError("every replica count must be between 1 and 64")
        return value

    @field_validator("rates")
    @classmethod
    def _positive_rates(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(v <= 0 for v in value):
            raise ValueError("every rate must be > 0")
        return value

    @field_validator("payment_latency")
    @classmethod
    def _latency(cls, value: str | None) -> str | None:
        return None if value is None else check_latency(value)


class Scenario(_Strict):
    name: str = "default"
    description: str = ""
    architectures: tuple[Architecture, ...] = ("monolith",)
    seed: int = 0
    dataset: Dataset = Dataset()
    payment_provider: PaymentProvider = PaymentProvider()
    replicas: Replicas = Replicas()
    microservices: Microservices = Microservices()
    workload: Workload = Workload()
    load: Load = Load()
    duration_s: float = Field(30.0, gt=0, le=86_400)
    warmup_s: float = Field(5.0, ge=0)
    window_s: float = Field(5.0, gt=0)
    repeats: int = Field(1, ge=1, le=100)
    slo: Slo = Slo()
    sim: Sim = Sim()
    audit: Audit = Audit()
    faults: tuple[Fault, ...] = ()
    # the load generator's CPUs and the system's (harness.config.cpus)
    cpus: Cpus = Cpus()

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if not self.architectures:
            raise ValueError("architectures: name at least one of "
                             + ", ".join(architectures.names()))
        if len(set(self.architectures)) != len(self.architectures):
            raise ValueError("architectures: each architecture at most once")
        if self.warmup_s >= self.duration_s:
            raise ValueError(f"warmup_s ({self.warmup_s}) must be shorter than duration_s "
                             f"({self.duration_s})")
        self._faults_fit()
        return self

    def _faults_fit(self) -> None:
        """Every fault hits a deployable of one of the architectures, within the load, and one
        at a time in each architecture: what a fault costs is measured from its start to the
        next one's, which two faults holding at once would mix up."""
        for i, fault in enumerate(self.faults):
            where = f"faults.{i}"
            if not any(fault.applies_to(arch) for arch in self.architectures):
                raise ValueError(f"{where}.target: {fault.target!r} is not part of "
                                 f"{' or '.join(self.architectures)}")
            if fault.at_s + fault.duration_s > self.duration_s:
                raise ValueError(f"{where}: at_s + duration_s ({fault.at_s + fault.duration_s:g}) "
                                 f"is past the end of the load (duration_s {self.duration_s:g})")
        for arch in self.architectures:
            mine = sorted(((f.at_s, i, f) for i, f in enumerate(self.faults) if f.applies_to(arch)),
                          key=lambda entry: entry[:2])
            for (_, j, earlier), (_, i, fault) in itertools.pairwise(mine):
                if fault.at_s < earlier.end_s or fault.at_s == earlier.at_s:
                    holds = ("for the rest of the load" if math.isinf(earlier.end_s)
                             else f"until {earlier.end_s:g} s")
                    raise ValueError(f"faults.{i}: begins at {fault.at_s:g} s while faults.{j} "
                                     f"({earlier.action} {earlier.target}) holds {holds} in the "
                                     f"{arch}: faults are measured one at a time")
