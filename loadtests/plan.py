"""The load plan the harness hands to `python -m loadtests`: parsed and validated in one place."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Operations a plan may weight; `book_e2e` is measured, never chosen.
OPERATIONS = (
    "search_availability",
    "list_hotels",
    "book",
    "view_booking",
    "list_customer_bookings",
    "cancel",
)
MODELS = ("open", "closed")
ARRIVALS = ("poisson", "fixed")


class PlanError(ValueError):
    """A plan that cannot run; the message names the offending key."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key


@dataclass(frozen=True)
class Dataset:
    hotels: int = 20
    room_types_per_hotel: int = 3
    start_date: dt.date = dt.date(2027, 1, 1)
    horizon_days: int = 60
    units_per_room_type: int | None = None  # accepted so a scenario's dataset passes through; unused


def _default_weights() -> dict[str, float]:
    return {"search_availability": 50, "list_hotels": 10, "book": 20, "view_booking": 10,
            "list_customer_bookings": 5, "cancel": 5}


@dataclass(frozen=True)
class FloorProbe:
    """GET `path` at a fixed `rate` for `duration_s` just before the load, its first `warmup_s`
    discarded: the generator's latency floor on this stack (loadtests/floor.py)."""

    path: str = "/health"
    rate: float = 100.0
    duration_s: float = 3.0
    warmup_s: float = 0.5


@dataclass(frozen=True)
class Plan:
    model: str
    rate: float = 20.0
    arrival: str = "poisson"
    users: int = 10
    think_time_s: tuple[float, float] = (0.5, 1.5)
    duration_s: float = 30.0
    warmup_s: float = 5.0
    window_s: float = 5.0
    weights: dict[str, float] = field(default_factory=_default_weights)
    seed: int = 0
    poll_interval_s: float = 0.005
    poll_wait_s: float = 0.0
    max_concurrency: int = 500
    dataset: Dataset = field(default_factory=Dataset)
    #: Write every request (start, operation, outcome, latency) to requests.csv: what the harness
    #: needs to measure a fault's blast radius and recovery, request by request.
    trace_requests: bool = False
    #: Measure the latency floor before the load; None: do not.
    floor: FloorProbe | None = None

    @property
    def measured_s(self) -> float:
        return self.duration_s - self.warmup_s


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _number(raw: Mapping[str, Any], key: str, path: str, default: float, *, minimum: float = 0.0,
            strictly_positive: bool = False) -> float:
    value = raw.get(key, default)
    if not _is_number(value):
        raise PlanError(path, f"must be a number, got {value!r}")
    if value < minimum or (strictly_positive and value <= 0):
        raise PlanError(path, f"must be {'> 0' if strictly_positive else f'>= {minimum:g}'}, got {value!r}")
    return float(value)


def _integer(raw: Mapping[str, Any], key: str, path: str, default: int | None, *, minimum: int) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise PlanError(path, f"must be an integer, got {value!r}")
    if value < minimum:
        raise PlanError(path, f"must be >= {minimum}, got {value!r}")
    return value


def _choice(raw: Mapping[str, Any], key: str, allowed: tuple[str, ...], default: str | None) -> str:
    value = raw.get(key, default)
    if value not in allowed:
        raise PlanError(key, f"must be one of {', '.join(allowed)}, got {value!r}")
    assert isinstance(value, str)
    return value


def _reject_unknown(raw: Mapping[str, Any], known: set[str], prefix: str = "") -> None:
    for key in raw:
        if key not in known:
            raise PlanError(f"{prefix}{key}", f"unknown key (known: {', '.join(sorted(known))})")


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PlanError(path, f"must be an object, got {type(value).__name__}")
    return value


def _dataset(value: Any) -> Dataset:
    raw = _mapping(value, "dataset")
    _reject_unknown(raw, {f for f in Dataset.__dataclass_fields__}, "dataset.")
    defaults = Dataset()
    start = raw.get("start_date", defaults.start_date.isoformat())
    try:
        start_date = dt.date.fromisoformat(start) if isinstance(start, str) else None
    except ValueError:
        start_date = None
    if start_date is None:
        raise PlanError("dataset.start_date", f"must be a YYYY-MM-DD date, got {start!r}")
    units = raw.get("units_per_room_type")
    return Dataset(
        hotels=_integer(raw, "hotels", "dataset.hotels", defaults.hotels, minimum=1),
        room_types_per_hotel=_integer(raw, "room_types_per_hotel", "dataset.room_types_per_hotel",
                                      defaults.room_types_per_hotel, minimum=1),
        start_date=start_date,
        horizon_days=_integer(raw, "horizon_days", "dataset.horizon_days", defaults.horizon_days, minimum=1),
        units_per_room_type=None if units is None else _integer(
            raw, "units_per_room_type", "dataset.units_per_room_type", None, minimum=1),
    )


def _weights(value: Any) -> dict[str, float]:
    raw = _mapping(value, "weights")
    weights: dict[str, float] = {}
    for op in raw:
        if op not in OPERATIONS:
            raise PlanError(f"weights.{op}", f"unknown operation (known: {', '.join(OPERATIONS)})")
        weights[op] = _number(raw, op, f"weights.{op}", 0.0)
    if sum(weights.values()) <= 0:
        raise PlanError("weights", "at least one operation needs a weight > 0")
    return weights


def _think_time(value: Any) -> tuple[float, float]:
    if (not isinstance(value, list | tuple) or len(value) != 2 or not all(_is_number(v) for v in value)
            or not 0 <= value[0] <= value[1]):
        raise PlanError("think_time_s", f"must be [low, high] seconds with 0 <= low <= high, got {value!r}")
    return float(value[0]), float(value[1])


def parse_plan(raw: Any) -> Plan:
    """Validate a decoded plan.json; raises PlanError naming the first bad key."""
    raw = _mapping(raw, "plan")
    _reject_unknown(raw, set(Plan.__dataclass_fields__))
    defaults = Plan(model="open")
    model = _choice(raw, "model", MODELS, None)
    duration = _number(raw, "duration_s", "duration_s", defaults.duration_s, strictly_positive=True)
    warmup = _number(raw, "warmup_s", "warmup_s", defaults.warmup_s)
    if warmup >= duration:
        raise PlanError("warmup_s", f"must be shorter than duration_s ({duration:g}), got {warmup:g}")
    return Plan(
        model=model,
        rate=_number(raw, "rate", "rate", defaults.rate, strictly_positive=model == "open"),
        arrival=_choice(raw, "arrival", ARRIVALS, defaults.arrival),
        users=_integer(raw, "users", "users", defaults.users, minimum=1 if model == "closed" else 0),
        think_time_s=_think_time(raw.get("think_time_s", list(defaults.think_time_s))),
        duration_s=duration,
        warmup_s=warmup,
        window_s=_number(raw, "window_s", "window_s", defaults.window_s, strictly_positive=True),
        weights=_weights(raw.get("weights", defaults.weights)),
        seed=_integer(raw, "seed", "seed", defaults.seed, minimum=0),
        poll_interval_s=_number(raw, "poll_interval_s", "poll_interval_s", defaults.poll_interval_s,
                                strictly_positive=True),
        poll_wait_s=_number(raw, "poll_wait_s", "poll_wait_s", defaults.poll_wait_s),
        max_concurrency=_integer(raw, "max_concurrency", "max_concurrency", defaults.max_concurrency,
                                 minimum=1),
        dataset=_dataset(raw.get("dataset", {})),
        trace_requests=_flag(raw, "trace_requests", defaults.trace_requests),
        floor=_floor(raw.get("floor")),
    )


def _floor(value: Any) -> FloorProbe | None:
    if value is None:
        return None
    raw = _mapping(value, "floor")
    _reject_unknown(raw, set(FloorProbe.__dataclass_fields__), "floor.")
    defaults = FloorProbe()
    path = raw.get("path", defaults.path)
    if not isinstance(path, str) or not path.startswith("/"):
        raise PlanError("floor.path", f"must be a path starting with /, got {path!r}")
    duration = _number(raw, "duration_s", "floor.duration_s", defaults.duration_s,
                       strictly_positive=True)
    warmup = _number(raw, "warmup_s", "floor.warmup_s", defaults.warmup_s)
    if warmup >= duration:
        raise PlanError("floor.warmup_s", f"must be shorter than floor.duration_s ({duration:g}), "
                                          f"got {warmup:g}")
    return FloorProbe(path=path, rate=_number(raw, "rate", "floor.rate", defaults.rate,
                                              strictly_positive=True),
                      duration_s=duration, warmup_s=warmup)


def _flag(raw: Mapping[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise PlanError(key, f"must be true or false, got {value!r}")
    return value
