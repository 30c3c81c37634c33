"""Locust user classes: behaviour only. The closed loop's users run weighted tasks with think time;
the open loop's single user lends its HTTP client to the arrival dispatcher (open_loop.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from locust import FastHttpUser, between

from loadtests.operations import E2E_TIMEOUT_S, BookingOperations, Client


class BookingUser(FastHttpUser):
    """Base user; a concrete class sets `operations_for` (wires a client to the run's shared state)
    and `tasks` (operation -> weight) from the plan."""

    abstract = True
    network_timeout = E2E_TIMEOUT_S
    connection_timeout = 10.0
    operations_for: Callable[[Client], BookingOperations]
    ops: BookingOperations

    def on_start(self) -> None:
        self.ops = type(self).operations_for(self.client)

    def _now(self) -> float:
        return self.ops.clock()

    def search_availability(self) -> None:
        self.ops.search_availability(self._now())

    def list_hotels(self) -> None:
        self.ops.list_hotels(self._now())

    def book(self) -> None:
        self.ops.book(self._now())

    def view_booking(self) -> None:
        self.ops.view_booking(self._now())

    def list_customer_bookings(self) -> None:
        self.ops.list_customer_bookings(self._now())

    def cancel(self) -> None:
        self.ops.cancel(self._now())


def integer_weights(weights: Mapping[str, float]) -> dict[str, int]:
    """Locust wants integer task weights; fractional plan weights are scaled, keeping their ratios."""
    positive = {op: w for op, w in weights.items() if w > 0}
    if all(float(w).is_integer() for w in positive.values()):
        return {op: int(w) for op, w in positive.items()}
    total = sum(positive.values())
    return {op: max(1, round(1000 * w / total)) for op, w in positive.items()}


def closed_loop_user(host: str, weights: Mapping[str, float], think_time_s: tuple[float, float],
                     operations_for: Callable[[Client], BookingOperations]) -> type[BookingUser]:
    attributes: dict[str, Any] = {
        "abstract": False,
        "host": host,
        "tasks": {getattr(BookingUser, op): w for op, w in integer_weights(weights).items()},
        "wait_time": between(*think_time_s),
        "operations_for": staticmethod(operations_for),
    }
    return type("ClosedLoopUser", (BookingUser,), attributes)


def open_loop_user(host: str, max_concurrency: int) -> type[FastHttpUser]:
    """One user whose client pool allows `max_concurrency` requests in flight at once."""
    return type("OpenLoopUser", (FastHttpUser,), {
        "abstract": False, "host": host, "concurrency": max_concurrency,
        "network_timeout": E2E_TIMEOUT_S, "connection_timeout": 10.0,
    })
