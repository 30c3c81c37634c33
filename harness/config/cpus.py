"""Which CPUs the load generator and the system under test run on: the scenario's `cpus` key, and
the split it resolves to on this machine.

By default the generator runs alone on the last CPU the harness may use and every process of the
deployment on all the others, so that neither steals the other's cycles: what the generator costs
stays apart from what the system costs. The payment provider runs with the system: it is a process
of the deployed stack whose CPU is counted in the system's budget, called the same way by every
architecture, and on the generator's CPU it would disturb the very process that measures.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CpuSet = tuple[int, ...]


def available_cpus() -> frozenset[int]:
    """The CPUs this process may run on (a container's or a cgroup's limit included)."""
    if hasattr(os, "sched_getaffinity"):
        return frozenset(os.sched_getaffinity(0))
    return frozenset(range(os.cpu_count() or 1))


def can_pin() -> bool:
    return hasattr(os, "sched_setaffinity")


def describe_cpus(cpus: frozenset[int] | CpuSet) -> str:
    """`0`, `0-3`, `0,2,5-7`: the kernel's cpu-list notation."""
    ordered = sorted(cpus)
    runs: list[str] = []
    start = previous = None
    for cpu in [*ordered, None]:
        if previous is not None and cpu == previous + 1:
            previous = cpu
            continue
        if start is not None:
            runs.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = cpu
    return ",".join(runs)


class Cpus(BaseModel):
    """`cpus:` in a scenario. Omitted: the default split. `off` (or `false`): nothing is pinned.
    `{generator: [1], system: [0]}`: these sets; either may be left out, and is then every other
    CPU the harness may use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pin: bool = Field(True, description="false: leave every process wherever the OS puts it")
    generator: CpuSet | None = Field(None, min_length=1,
                                     description="the load generator's CPUs; default: the last one")
    system: CpuSet | None = Field(None, min_length=1,
                                  description="the system under test's CPUs; default: the others")

    @model_validator(mode="before")
    @classmethod
    def _switch(cls, value: Any) -> Any:
        # YAML reads a bare `off` as false and `on` as true
        if value is False or value == "off":
            return {"pin": False}
        if value is True or value in ("on", "auto"):
            return {}
        if not isinstance(value, dict | Cpus):
            raise ValueError("expected off, or {generator: [CPU, ...], system: [CPU, ...]}")
        return value

    @field_validator("generator", "system")
    @classmethod
    def _on_this_machine(cls, chosen: CpuSet | None) -> CpuSet | None:
        if chosen is None:
            return None
        if len(set(chosen)) != len(chosen):
            raise ValueError("a CPU is listed twice")
        available = available_cpus()
        missing = frozenset(chosen) - available
        if missing:
            raise ValueError(f"CPU {describe_cpus(missing)} is not available on this machine "
                             f"(CPUs {describe_cpus(available)})")
        return chosen

    @model_validator(mode="after")
    def _apart(self) -> Cpus:
        if not self.pin:
            if self.generator is not None or self.system is not None:
                raise ValueError("pin: false takes no generator or system set")
            return self
        if self.generator is not None and self.system is not None:
            shared = frozenset(self.generator) & frozenset(self.system)
            if shared:
                raise ValueError(f"generator and system overlap on CPU {describe_cpus(shared)}: "
                                 "the generator needs CPUs of its own")
        available = available_cpus()
        for key, other in (("generator", "system"), ("system", "generator")):
            chosen = getattr(self, key)
            if chosen is not None and getattr(self, other) is None and available <= set(chosen):
                raise ValueError(f"{key} takes every CPU of this machine "
                                 f"({describe_cpus(available)}): none is left for the {other}")
        return self


@dataclass(frozen=True)
class CpuSplit:
    """The CPU sets processes are started on; both None when nothing is pinned (`note` says why)."""

    generator: frozenset[int] | None
    system: frozenset[int] | None
    note: str

    @property
    def pinned(self) -> bool:
        return self.generator is not None and self.system is not None

    def to_json(self) -> dict[str, Any]:
        return {"pinned": self.pinned,
                "generator": sorted(self.generator) if self.generator is not None else None,
                "system": sorted(self.system) if self.system is not None else None,
                "note": self.note}


def not_pinned(why: str) -> CpuSplit:
    return CpuSplit(None, None, why)


def cpu_split(cpus: Cpus) -> CpuSplit:
    """What `cpus` means on this machine; never fails: where pinning cannot be done, says why."""
    if not cpus.pin:
        return not_pinned("not pinned: cpus: off in the scenario")
    if not can_pin():
        return not_pinned(f"not pinned: this platform ({sys.platform}) has no "
                          "os.sched_setaffinity")
    available = available_cpus()
    if cpus.generator is None and cpus.system is None:
        if len(available) < 2:
            return not_pinned(f"not pinned: only CPU {describe_cpus(available)} is available, "
                              "nothing to split")
        last = max(available)
        return CpuSplit(frozenset({last}), available - {last},
                        "default: the generator on the last CPU, the system on the others")
    if cpus.generator is None:
        system = frozenset(cpus.system or ())
        return CpuSplit(available - system, system, "set by the scenario (generator: the others)")
    generator = frozenset(cpus.generator)
    if cpus.system is None:
        return CpuSplit(generator, available - generator,
                        "set by the scenario (system: the others)")
    return CpuSplit(generator, frozenset(cpus.system), "set by the scenario")
