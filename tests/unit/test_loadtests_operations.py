"""Operations against a scripted fake client and a fake clock: statuses map to errors, a booking is
polled to its terminal status, and every latency counts from the start it was given."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from loadtests.inputs import BookingLedger, InputPicker
from loadtests.operations import BookingOperations, error_kind
from loadtests.plan import Dataset
from loadtests.recorder import Recorder

Reply = tuple[int, dict[str, Any] | None]


@dataclass
class FakeResponse:
    status_code: int
    text: str | None
    error: BaseException | None = None
    outcome: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def success(self) -> None:
        self.outcome = "success"

    def failure(self, exc: Any) -> None:
        self.outcome = f"failure:{exc}"


@dataclass
class FakeClient:
    """Answers with `script(method, url, body)`; every request takes `latency_s` of fake time."""

    script: Callable[[str, str, Any], Reply]
    clock: list[float]
    latency_s: float = 0.010
    sent: list[tuple[str, str, str | None]] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    #: Answer a `Prefer: wait` poll as a server that applied it (Preference-Applied).
    applies_wait: bool = False

    @contextmanager
    def request(self, method: str, url: str, *, name: str | None = None, json: Any = None,
                headers: dict[str, str] | None = None,
                catch_response: bool = False) -> Iterator[FakeResponse]:
        assert catch_response
        self.sent.append((method, url, name))
        self.bodies.append(json)
        self.headers.append(dict(headers or {}))
        self.clock[0] += self.latency_s
        status, body = self.script(method, url, json)
        applied = {"Preference-Applied": "wait=5"} if self.applies_wait and headers and \
            "Prefer" in headers else {}
        yield FakeResponse(status, None if body is None else _dumps(body), headers=applied)


def _dumps(body: dict[str, Any]) -> str:
    return json.dumps(body)


def _operations(script: Callable[[str, str, Any], Reply], poll_wait_s: float = 0.0,
                applies_wait: bool = False) -> tuple[BookingOperations, FakeClient, Recorder]:
    now = [0.0]
    client = FakeClient(script, now, applies_wait=applies_wait)
    recorder = Recorder(origin=0.0, warmup_s=0.0, duration_s=100.0, window_s=10.0)

    def sleep(seconds: float) -> None:
        now[0] += seconds

    ops = BookingOperations(client, InputPicker(Dataset(), seed=0), BookingLedger(random.Random(0)),
                            recorder, lambda: now[0], sleep, poll_interval_s=0.005,
                            poll_wait_s=poll_wait_s)
    return ops, client, recorder


def _p50_ms(recorder: Recorder, op: str) -> float:
    return recorder.histograms[op].get_value_at_percentile(50) / 1000


def _booking_flow(polls_until_confirmed: int) -> Callable[[str, str, Any], Reply]:
    polls = [0]

    def script(method: str, url: str, body: Any) -> Reply:
        if method == "POST" and url == "/bookings":
            return 202, {"booking_id": "b1", "status": "pending"}
        if url == "/bookings/b1":
            polls[0] += 1
            if polls[0] == 1:
                return 404, {"error": {"code": "not_found", "message": ""}}
            status = "confirmed" if polls[0] >= polls_until_confirmed else "pending"
            return 200, {"booking_id": "b1", "status": status}
        if url == "/bookings/b1/cancel":
            return 200, {"booking_id": "b1", "status": "cancelled"}
        return 200, {}
    return script


def test_a_booking_is_polled_through_not_visible_yet_to_confirmed() -> None:
    ops, client, recorder = _operations(_booking_flow(polls_until_confirmed=3))
    ops.book(start=0.0)
    assert [m for m, _, _ in client.sent] == ["POST", "GET", "GET", "GET"]
    assert _p50_ms(recorder, "book") == pytest.approx(10, rel=0.001)
    assert _p50_ms(recorder, "book_e2e") == pytest.approx(10 + 3 * (5 + 10), rel=0.001)
    assert dict(recorder.errors) == {}
    request = client.bodies[0]
    assert set(request) == {"customer_id", "room_type_id", "check_in", "nights", "units", "card_token"}
    assert request["units"] == 1 and request["card_token"] == "tok_ok"
    assert request["customer_id"] in ops.picker.customers


def test_a_long_poll_asks_the_server_to_wait_and_asks_again_at_once_when_it_did() -> None:
    ops, client, recorder = _operations(_booking_flow(polls_until_confirmed=3), poll_wait_s=5.0,
                                        applies_wait=True)
    ops.book(start=0.0)
    assert [m for m, _, _ in client.sent] == ["POST", "GET", "GET", "GET"]
    assert all(h["Prefer"].startswith("wait=5") for h in client.headers[1:])
    # no pause between polls: each one was held by the server until something changed
    assert _p50_ms(recorder, "book_e2e") == pytest.approx(10 + 3 * 10, rel=0.001)


def test_a_server_that_ignores_the_wait_is_polled_at_the_plain_interval() -> None:
    ops, client, recorder = _operations(_booking_flow(polls_until_confirmed=3), poll_wait_s=5.0)
    ops.book(start=0.0)
    assert [m for m, _, _ in client.sent] == ["POST", "GET", "GET", "GET"]
    assert _p50_ms(recorder, "book_e2e") == pytest.approx(10 + 10 + 2 * (5 + 10), rel=0.001)


def test_latency_counts_from_the_given_start_however_late_the_send() -> None:
    ops, client, recorder = _operations(lambda m, u, b: (200, {}))
    client.clock[0] = 1.0
    ops.search_availability(start=0.5)  # due half a second before it could be sent
    assert _p50_ms(recorder, "search_availability") == pytest.approx(510, rel=0.001)


def test_a_confirmed_booking_can_be_viewed_and_is_cancelled_once() -> None:
    ops, client, recorder = _operations(_booking_flow(polls_until_confirmed=2))
    ops.book(0.0)
    ops.cancel(1.0)
    ops.cancel(2.0)  # nothing left to cancel: a search instead
    ops.view_booking(3.0)
    urls = [u for _, u, _ in client.sent]
    assert urls.count("/bookings/b1/cancel") == 1
    assert any(u.startswith("/availability?") for u in urls)
    assert recorder.requests() == {"search_availability": 1, "book": 1, "book_e2e": 1, "view_booking": 1,
                                   "cancel": 1}


def test_viewing_before_any_booking_is_known_lists_hotels_instead() -> None:
    ops, client, recorder = _operations(lambda m, u, b: (200, {"hotels": []}))
    ops.view_booking(0.0)
    assert client.sent == [("GET", "/hotels?limit=20&offset=0", "/hotels")]
    assert recorder.requests() == {"list_hotels": 1}


def test_an_unexpected_status_is_an_error_of_that_kind_and_not_a_latency_sample() -> None:
    ops, _, recorder = _operations(lambda m, u, b: (500, {"error": {}}))
    ops.list_customer_bookings(0.0)
    ops.book(0.0)
    assert recorder.errors == {"list_customer_bookings": {"http_500": 1}, "book": {"http_500": 1}}
    assert recorder.histograms == {}


def test_a_booking_that_never_settles_times_out_after_30_seconds() -> None:
    ops, _, recorder = _operations(_booking_flow(polls_until_confirmed=10**9))
    ops.book(0.0)
    assert recorder.errors == {"book_e2e": {"timeout": 1}}
    assert recorder.requests()["book"] == 1


def test_a_booking_known_at_once_needs_no_poll() -> None:
    ops, client, recorder = _operations(lambda m, u, b: (201, {"booking_id": "b9", "status": "rejected"}))
    ops.book(0.0)
    assert len(client.sent) == 1
    assert _p50_ms(recorder, "book_e2e") == _p50_ms(recorder, "book")
    assert ops.ledger.any_known() is None  # only confirmed bookings are remembered


@pytest.mark.parametrize(("status", "error", "kind"), [
    (200, None, None), (409, None, "http_409"), (503, None, "http_503"),
    (0, TimeoutError("timed out"), "timeout"), (0, ConnectionRefusedError(111, "refused"), "connection"),
])
def test_error_kinds(status: int, error: BaseException | None, kind: str | None) -> None:
    assert error_kind(status, error, {200}) == kind
