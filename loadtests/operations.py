"""The contract's operations, as the load runs them: pick valid inputs, send, check the status, record.

Each operation takes `start`, the time its latency counts from (the intended send time in the open
loop). Nothing here branches on the architecture; the client is a Locust FastHttpSession (or a fake).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Collection, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol
from urllib.parse import urlencode

from loadtests.inputs import PAGE, BookingLedger, InputPicker
from loadtests.recorder import Recorder

TERMINAL = frozenset({"confirmed", "rejected", "cancelled"})
E2E_TIMEOUT_S = 30.0


class Response(Protocol):
    status_code: int
    text: str | None
    headers: Mapping[str, str]

    def success(self) -> None: ...
    def failure(self, exc: Any) -> None: ...


class Client(Protocol):
    def request(self, method: str, url: str, *, name: str | None = ..., json: Any = ...,
                headers: Mapping[str, str] | None = ...,
                catch_response: bool = ...) -> AbstractContextManager[Response]: ...


def error_kind(status: int, error: BaseException | None, expected: Collection[int]) -> str | None:
    """None for an expected status; else http_<status>, timeout or connection."""
    if status in expected:
        return None
    if status:
        return f"http_{status}"
    if isinstance(error, TimeoutError | socket.timeout) or "timed out" in str(error).lower() \
            or type(error).__name__ == "Timeout":
        return "timeout"
    return "connection"


def _body(response: Response) -> dict[str, Any] | None:
    try:
        body = json.loads(response.text or "")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


class BookingOperations:
    def __init__(self, client: Client, picker: InputPicker, ledger: BookingLedger, recorder: Recorder,
                 clock: Callable[[], float], sleep: Callable[[float], None], poll_interval_s: float,
                 poll_wait_s: float = 0.0) -> None:
        self.client = client
        self.picker = picker
        self.ledger = ledger
        self.recorder = recorder
        self.clock = clock
        self.sleep = sleep
        self.poll_interval_s = poll_interval_s
        self.poll_wait_s = poll_wait_s
        self.by_name: dict[str, Callable[[float], None]] = {
            "search_availability": self.search_availability,
            "list_hotels": self.list_hotels,
            "book": self.book,
            "view_booking": self.view_booking,
            "list_customer_bookings": self.list_customer_bookings,
            "cancel": self.cancel,
        }

    def run(self, op: str, start: float) -> None:
        self.by_name[op](start)

    def _send(self, op: str, start: float, method: str, url: str, name: str, expected: Collection[int],
              body: Any = None) -> tuple[dict[str, Any] | None, float]:
        """Sends one request, records it as `op`; returns the decoded body (None on error) and end time."""
        with self.client.request(method, url, name=name, json=body, catch_response=True) as response:
            end = self.clock()
            kind = error_kind(response.status_code, getattr(response, "error", None), expected)
            if kind is not None:
                response.failure(kind)
                self.recorder.error(op, kind, start, end)
                return None, end
            response.success()
            self.recorder.record(op, start, end)
            return _body(response) or {}, end

    def search_availability(self, start: float) -> None:
        check_in, nights = self.picker.stay()
        query = urlencode({"hotel_id": self.picker.hotel(), "check_in": check_in, "nights": nights})
        self._send("search_availability", start, "GET", f"/availability?{query}", "/availability", {200})

    def list_hotels(self, start: float) -> None:
        query = urlencode({"limit": PAGE, "offset": self.picker.hotels_offset()})
        self._send("list_hotels", start, "GET", f"/hotels?{query}", "/hotels", {200})

    def list_customer_bookings(self, start: float) -> None:
        customer = self.picker.customer()
        self._send("list_customer_bookings", start, "GET", f"/customers/{customer}/bookings",
                   "/customers/[id]/bookings", {200})

    def view_booking(self, start: float) -> None:
        booking_id = self.ledger.any_known()
        if booking_id is None:
            self.list_hotels(start)
            return
        self._send("view_booking", start, "GET", f"/bookings/{booking_id}", "/bookings/[id]", {200})

    def cancel(self, start: float) -> None:
        booking_id = self.ledger.take_cancellable()
        if booking_id is None:
            self.search_availability(start)
            return
        self._send("cancel", start, "POST", f"/bookings/{booking_id}/cancel", "/bookings/[id]/cancel", {200})

    def health(self, start: float, path: str = "/health") -> None:
        """GET /health, the contract's cheapest request, recorded as `health` (the floor probe's)."""
        self._send("health", start, "GET", path, path, {200})

    def book(self, start: float) -> None:
        """Records the POST as `book` and POST-to-terminal-status (polled) as `book_e2e`."""
        check_in, nights = self.picker.stay()
        request = {"customer_id": self.picker.customer(), "room_type_id": self.picker.room_type(),
                   "check_in": check_in, "nights": nights, "units": 1, "card_token": "tok_ok"}
        booking, posted = self._send("book", start, "POST", "/bookings", "/bookings", {201, 202}, request)
        if booking is None:
            return
        booking_id = booking.get("booking_id")
        if not isinstance(booking_id, str):
            self.recorder.error("book_e2e", "invalid_response", start, posted)
            return
        status, end = booking.get("status"), posted
        if status not in TERMINAL:
            status, end = self._await_terminal(booking_id, start, posted)
        if status is None:
            return
        self.recorder.record("book_e2e", start, end)
        if status == "confirmed":
            self.ledger.confirmed(booking_id)

    def _await_terminal(self, booking_id: str, start: float, posted: float) -> tuple[str | None, float]:
        """Polls until a terminal status; a 404 just after the 202 means "not visible yet".

        With `poll_wait_s`, each poll asks the server to answer when the booking changes
        (RFC 7240 `Prefer: wait=N`); a server that applied the preference is asked again at once,
        one that did not (a plain poll) after `poll_interval_s`.
        """
        deadline = posted + E2E_TIMEOUT_S
        headers: dict[str, str] = {}
        pause = 0.0 if self.poll_wait_s else self.poll_interval_s
        while True:
            if pause:
                self.sleep(pause)
            now = self.clock()
            if now >= deadline:
                self.recorder.error("book_e2e", "timeout", start, now)
                return None, now
            if self.poll_wait_s:
                headers["Prefer"] = f"wait={min(self.poll_wait_s, deadline - now):.3f}"
            with self.client.request("GET", f"/bookings/{booking_id}", name="/bookings/[id] (poll)",
                                     headers=headers, catch_response=True) as response:
                seen = self.clock()
                kind = error_kind(response.status_code, getattr(response, "error", None), {200, 404})
                if kind is not None:
                    response.failure(kind)
                    self.recorder.error("book_e2e", kind, start, seen)
                    return None, seen
                response.success()
                status = (_body(response) or {}).get("status") if response.status_code == 200 else None
                if status in TERMINAL:
                    return status, seen
                waited = "preference-applied" in {k.lower() for k in (response.headers or {})}
                pause = 0.0 if waited else self.poll_interval_s
