"""The live audit's availability matrix: what fails while one process of a deployment is frozen.

Each process of the deployment in turn (every service or the monolith, postgres, nats, the
payment provider, caddy) is stopped by freezing it: SIGSTOP to the process, then to all its
descendants (uvicorn workers, postgres backends: these call setsid(), so the process group of
the postmaster alone would leave them running), the root first so that it cannot fork a child
that escapes. Only this deployment's processes are signalled, by pid, and SIGCONT always follows
in a `finally`, before the deployment's teardown, on success, error or Ctrl-C. Freezing rather
than killing because the harness has no restart logic (a killed process would stay dead and
bias every later row), and because a frozen peer is the harshest failure for its clients: its
connections stay open, nothing is refused or reset, a client only learns of it by timing out.

Before freezing, two confirmed bookings are prepared (one to read, one to cancel). While frozen,
every operation runs once, all concurrently, with a 2 s timeout per request. "ok" is the
contract's success: health 200, list_hotels (GET /hotels) 200, availability 200, book_accept 201
or 202, book_complete a terminal status seen (in the 201 itself, or by polling GET
/bookings/{id} for up to 5 s after a 202; not attempted when book_accept failed), get_booking
200, cancel 200, customer_bookings 200. After SIGCONT, rounds of every operation (this time
reading and cancelling the round's own booking once confirmed) repeat until one is fully ok:
`recovery_s` is the time from SIGCONT to the end of that round, None when 60 s were not enough
(the failures are in `recovery_errors`). `completed_after_resume` says whether the booking
accepted but not finished during the outage reached a terminal status after the resume (within
10 s of the recovery), None when there was no such booking.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from harness.audit.live_common import POLL_S, TERMINAL, Catalog, expect, new_customer
from harness.config.errors import HarnessError
from harness.deploy.deployment import Deployment
from harness.deploy.supervisor import frozen

OPERATIONS: tuple[str, ...] = ("health", "list_hotels", "availability", "book_accept",
                               "book_complete", "get_booking", "cancel", "customer_bookings")
REQUEST_TIMEOUT_S = 2.0
COMPLETION_TIMEOUT_S = 5.0
RECOVERY_TIMEOUT_S = 60.0
PENDING_GRACE_S = 10.0  # after recovery, for the booking accepted during the outage


@dataclass
class _Outcome:
    ok: bool
    status: int | None
    error: str | None
    ms: float


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _error_of(response: httpx.Response) -> str:
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = response.text[:120] or "empty body"
    return f"HTTP {response.status_code}: {code}"


async def _call(request: Awaitable[httpx.Response], *expected: int
                ) -> tuple[_Outcome, httpx.Response | None]:
    started = time.perf_counter()
    try:
        response = await request
    except httpx.HTTPError as exc:
        return _Outcome(False, None, _describe(exc), _ms(started)), None
    ok = response.status_code in expected
    return _Outcome(ok, response.status_code, None if ok else _error_of(response),
                    _ms(started)), response


def _skipped(reason: str) -> _Outcome:
    return _Outcome(False, None, f"not attempted: {reason}", 0.0)


async def _completion(client: httpx.AsyncClient, accepted: httpx.Response,
                      started: float) -> tuple[_Outcome, dict[str, Any]]:
    """Wait up to COMPLETION_TIMEOUT_S after the answer for a terminal status."""
    booking: dict[str, Any] = accepted.json()
    if booking["status"] in TERMINAL:
        return _Outcome(True, accepted.status_code, None, _ms(started)), booking
    deadline = time.perf_counter() + COMPLETION_TIMEOUT_S
    status, last = None, "still pending"
    while time.perf_counter() < deadline:
        await asyncio.sleep(POLL_S)
        try:
            response = await client.get(f"/bookings/{booking['booking_id']}", timeout=max(
                0.01, min(REQUEST_TIMEOUT_S, deadline - time.perf_counter())))
        except httpx.HTTPError as exc:
            status, last = None, _describe(exc)
            continue
        status = response.status_code
        if status == 200:
            booking = response.json()
            if booking["status"] in TERMINAL:
                return _Outcome(True, 200, None, _ms(started)), booking
            last = f"still {booking['status']}"
        else:
            last = "not visible yet" if status == 404 else _error_of(response)
    return _Outcome(False, status, f"no terminal status within {COMPLETION_TIMEOUT_S:.0f} s "
                    f"({last})", _ms(started)), booking


@dataclass
class _Round:
    outcomes: dict[str, _Outcome]
    unfinished: str | None  # a booking accepted in this round without a terminal status yet

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes.values())


async def _every_operation(client: httpx.AsyncClient, catalog: Catalog,
                           ready: tuple[str, str, str] | None) -> _Round:
    """Each operation once, concurrently. `ready` is (customer, booking to read, booking to
    cancel), prepared beforehand; without it the round reads and cancels its own booking once
    it is confirmed."""
    customer = ready[0] if ready else new_customer()

    async def single(op: str, request: Awaitable[httpx.Response]) -> dict[str, _Outcome]:
        outcome, _ = await _call(request, 200)
        return {op: outcome}

    async def read_and_cancel(booking_id: str) -> dict[str, _Outcome]:
        return {**await single("get_booking", client.get(f"/bookings/{booking_id}")),
                **await single("cancel", client.post(f"/bookings/{booking_id}/cancel"))}

    unfinished: str | None = None

    async def book() -> dict[str, _Outcome]:
        nonlocal unfinished
        started = time.perf_counter()
        accept, response = await _call(client.post("/bookings", json=catalog.booking(customer)),
                                       201, 202)
        if response is None or not accept.ok:
            complete, booking = _skipped("book_accept failed"), {}
        else:
            complete, booking = await _completion(client, response, started)
            if not complete.ok:
                unfinished = booking["booking_id"]
        out = {"book_accept": accept, "book_complete": complete}
        if ready:
            return out
        if booking.get("status") == "confirmed":
            return {**out, **await read_and_cancel(booking["booking_id"])}
        reason = "this round's booking did not confirm"
        return {**out, "get_booking": _skipped(reason), "cancel": _skipped(reason)}

    work = [single("health", client.get("/health")),
            single("list_hotels", client.get("/hotels")),
            single("availability", client.get("/availability", params=catalog.search(0))),
            single("customer_bookings", client.get(f"/customers/{customer}/bookings")),
            book()]
    if ready:
        work += [single("get_booking", client.get(f"/bookings/{ready[1]}")),
                 single("cancel", client.post(f"/bookings/{ready[2]}/cancel"))]
    found = {op: o for part in await asyncio.gather(*work) for op, o in part.items()}
    return _Round({op: found[op] for op in OPERATIONS}, unfinished)


async def _prepare(base_url: str, catalog: Catalog) -> tuple[str, str, str]:
    """A customer with two confirmed bookings: one to read, one to cancel."""
    customer = new_customer()
    booked = []
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        for _ in range(2):
            started = time.perf_counter()
            response = expect(await client.post("/bookings", json=catalog.booking(customer)),
                               201, 202)
            outcome, booking = await _completion(client, response, started)
            if not outcome.ok or booking["status"] != "confirmed":
                raise HarnessError(f"availability: could not prepare a confirmed booking "
                                   f"({outcome.error or booking['status']})")
            booked.append(booking["booking_id"])
    return customer, booked[0], booked[1]


async def _outage(base_url: str, catalog: Catalog, ready: tuple[str, str, str]) -> _Round:
    async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
        return await _every_operation(client, catalog, ready)


async def _recovery(base_url: str, catalog: Catalog, resumed: float, unfinished: str | None
                    ) -> tuple[float | None, str | None, bool | None]:
    """(seconds until a fully working round, the failures if there was none within
    RECOVERY_TIMEOUT_S, whether the booking left unfinished by the outage completed)."""
    took: float | None = None
    error: str | None = None
    async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
        while True:
            attempt = await _every_operation(client, catalog, None)
            if attempt.ok:
                took = time.monotonic() - resumed
                break
            if time.monotonic() - resumed > RECOVERY_TIMEOUT_S:
                error = "; ".join(f"{op}: {o.error}" for op, o in attempt.outcomes.items()
                                  if not o.ok)
                break
            await asyncio.sleep(0.1)
        completed = None
        if unfinished is not None:
            completed = await _reaches_terminal(client, unfinished)
    return took, error, completed


async def _reaches_terminal(client: httpx.AsyncClient, booking_id: str) -> bool:
    deadline = time.monotonic() + PENDING_GRACE_S
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            response = await client.get(f"/bookings/{booking_id}")
            if response.status_code == 200 and response.json()["status"] in TERMINAL:
                return True
        await asyncio.sleep(0.1)
    return False


def availability_matrix(dep: Deployment, catalog: Catalog,
                  step: Callable[[str], None]) -> dict[str, Any]:
    matrix: dict[str, dict[str, dict[str, Any]]] = {}
    recovery: dict[str, float | None] = {}
    errors: dict[str, str] = {}
    completed: dict[str, bool | None] = {}
    for managed in dep.processes:
        step(f"availability: {managed.name} frozen")
        ready = asyncio.run(_prepare(dep.base_url, catalog))
        with frozen(managed):
            outage = asyncio.run(_outage(dep.base_url, catalog, ready))
        resumed = time.monotonic()
        step(f"availability: {managed.name} resumed, waiting for every operation to work")
        took, error, done = asyncio.run(_recovery(dep.base_url, catalog, resumed,
                                                  outage.unfinished))
        matrix[managed.name] = {op: asdict(o) for op, o in outage.outcomes.items()}
        recovery[managed.name] = None if took is None else round(took, 3)
        completed[managed.name] = done
        if error is not None:
            errors[managed.name] = error
    return {
        "deployables": [p.name for p in dep.processes],
        "operations": list(OPERATIONS),
        "matrix": matrix,
        "recovery_s": recovery,
        "recovery_errors": errors,
        "completed_after_resume": completed,
    }

