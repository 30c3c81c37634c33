"""`python -m loadtests` as the harness runs it, against a throwaway fake of the HTTP contract served
by uvicorn in a thread of this process (the load generator runs in its own process)."""

from __future__ import annotations

import asyncio
import csv
import itertools
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from hdrh.histogram import HdrHistogram
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.polling import wait_until

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SLOW_S = 0.2
MIX = {"search_availability": 50, "list_hotels": 10, "book": 20, "view_booking": 10,
       "list_customer_bookings": 5, "cancel": 5}
DATASET = {"hotels": 20, "room_types_per_hotel": 3, "start_date": "2027-01-01", "horizon_days": 60}


def fake_contract(slow_availability: bool) -> Starlette:
    """Minimal fake: a booking answers 202, is unknown on its first poll (404) and confirmed on the
    second; with `slow_availability`, /availability serves one request at a time, 200 ms each."""
    bookings: dict[str, dict[str, Any]] = {}
    polls: dict[str, int] = {}
    ids = itertools.count(1)
    one_at_a_time = asyncio.Lock()

    async def availability(request: Request) -> JSONResponse:
        if slow_availability:
            async with one_at_a_time:
                await asyncio.sleep(SLOW_S)
        q = request.query_params
        return JSONResponse({"hotel_id": q["hotel_id"], "check_in": q["check_in"],
                             "nights": int(q["nights"]), "room_types": []})

    async def hotels(request: Request) -> JSONResponse:
        return JSONResponse({"hotels": []})

    async def book(request: Request) -> JSONResponse:
        body = await request.json()
        booking_id = f"b{next(ids)}"
        bookings[booking_id] = {**body, "booking_id": booking_id, "status": "pending"}
        polls[booking_id] = 0
        return JSONResponse(bookings[booking_id], status_code=202,
                            headers={"Location": f"/bookings/{booking_id}"})

    async def view(request: Request) -> JSONResponse:
        booking_id = request.path_params["booking_id"]
        polls[booking_id] = polls.get(booking_id, 0) + 1
        if booking_id not in bookings or polls[booking_id] == 1:
            return JSONResponse({"error": {"code": "not_found", "message": ""}}, status_code=404)
        if bookings[booking_id]["status"] == "pending":
            bookings[booking_id]["status"] = "confirmed"
        return JSONResponse(bookings[booking_id])

    async def cancel(request: Request) -> JSONResponse:
        booking = bookings.get(request.path_params["booking_id"])
        if booking is None or booking["status"] != "confirmed":
            return JSONResponse({"error": {"code": "not_cancellable", "message": ""}}, status_code=409)
        booking["status"] = "cancelled"
        return JSONResponse(booking)

    async def customer_bookings(request: Request) -> JSONResponse:
        return JSONResponse({"bookings": []})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "architecture": "fake"})

    return Starlette(routes=[
        Route("/availability", availability),
        Route("/hotels", hotels),
        Route("/bookings", book, methods=["POST"]),
        Route("/bookings/{booking_id}", view),
        Route("/bookings/{booking_id}/cancel", cancel, methods=["POST"]),
        Route("/customers/{customer_id}/bookings", customer_bookings),
        Route("/health", health),
    ])


def _serve(slow_availability: bool) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(fake_contract(slow_availability), log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "the fake server started", 0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def fake_url() -> Iterator[str]:
    yield from _serve(slow_availability=False)


@pytest.fixture
def slow_url() -> Iterator[str]:
    yield from _serve(slow_availability=True)


def _command(url: str, plan: dict[str, Any], tmp_path: Path) -> list[str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan))
    return [sys.executable, "-m", "loadtests", "--host", url, "--plan", str(plan_file),
            "--out", str(tmp_path / "out")]


def _run(url: str, plan: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    done = subprocess.run(_command(url, plan, tmp_path), cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads((tmp_path / "out" / "summary.json").read_text())


def _windows(tmp_path: Path) -> list[dict[str, str]]:
    with (tmp_path / "out" / "windows.csv").open() as f:
        return list(csv.DictReader(f))


def _check_outputs(summary: dict[str, Any], tmp_path: Path, windows: int) -> None:
    out = tmp_path / "out"
    assert summary["measured_s"] == pytest.approx(3.0)
    assert "interrupted" not in summary
    assert summary["errors"] == {}
    for op in ("search_availability", "book", "book_e2e"):
        assert summary["requests"][op] > 0
        encoded = (out / "histograms" / f"{op}.hdr").read_text()
        assert encoded.endswith("\n") and "\n" not in encoded.rstrip("\n")
        histogram = HdrHistogram.decode(encoded.strip().encode())
        assert histogram.get_total_count() == summary["requests"][op]
    pct = summary["percentiles_ms"]
    assert pct["book_e2e"]["p50"] > pct["book"]["p50"]
    assert 0 < pct["search_availability"]["p50"] <= pct["search_availability"]["p99"]
    rows = _windows(tmp_path)
    assert {float(r["window_start_s"]) for r in rows} == {1.0 + i for i in range(windows)}
    for op, n in summary["requests"].items():
        assert sum(int(r["count"]) for r in rows if r["operation"] == op) == n
    assert 0 <= summary["generator_cpu_share"] < 1


def test_a_closed_loop_run_writes_every_output(fake_url: str, tmp_path: Path) -> None:
    plan = {"model": "closed", "users": 4, "think_time_s": [0.02, 0.05], "duration_s": 4, "warmup_s": 1,
            "window_s": 1, "weights": MIX, "seed": 1, "dataset": DATASET}
    summary = _run(fake_url, plan, tmp_path)
    assert summary["model"] == "closed" and summary["offered_rate"] is None
    assert summary["late_starts"] == 0
    assert summary["achieved_rate"] > 20
    _check_outputs(summary, tmp_path, windows=3)


def test_an_open_loop_run_achieves_the_offered_rate(fake_url: str, tmp_path: Path) -> None:
    plan = {"model": "open", "rate": 20.0, "arrival": "fixed", "duration_s": 4, "warmup_s": 1,
            "window_s": 1, "weights": MIX, "seed": 2, "dataset": DATASET}
    summary = _run(fake_url, plan, tmp_path)
    assert summary["model"] == "open" and summary["offered_rate"] == 20.0
    assert summary["achieved_rate"] == pytest.approx(20.0, rel=0.15)
    assert summary["lag_ms"]["max"] >= summary["lag_ms"]["p99"] >= 0
    _check_outputs(summary, tmp_path, windows=3)


def _only_search(model: str, **load: Any) -> dict[str, Any]:
    return {"model": model, "duration_s": 3, "warmup_s": 0.5, "window_s": 1,
            "weights": {"search_availability": 1}, "dataset": DATASET, **load}


def test_open_loop_shows_the_queueing_that_closed_loop_hides(slow_url: str, tmp_path: Path) -> None:
    """The coordinated-omission demonstration: the server does 5 searches/s, one at a time."""
    closed = _run(slow_url, _only_search("closed", users=1, think_time_s=[0, 0]), tmp_path / "closed")
    opened = _run(slow_url, _only_search("open", rate=10.0, arrival="fixed"), tmp_path / "open")
    closed_p50 = closed["percentiles_ms"]["search_availability"]["p50"]
    open_p50 = opened["percentiles_ms"]["search_availability"]["p50"]
    assert SLOW_S * 1000 * 0.95 <= closed_p50 <= SLOW_S * 1000 * 1.5
    assert open_p50 > 4 * SLOW_S * 1000  # arrivals queue behind each other: latency keeps growing
    assert opened["errors"] == {}
    assert opened["requests"]["search_availability"] == 25  # every arrival due after the warm-up ran
    assert opened["achieved_rate"] == pytest.approx(1 / SLOW_S, rel=0.25)  # the server's capacity


def test_a_terminated_run_still_writes_what_it_measured(fake_url: str, tmp_path: Path) -> None:
    plan = {"model": "open", "rate": 50.0, "duration_s": 60, "warmup_s": 0.5, "window_s": 1,
            "weights": MIX, "dataset": DATASET}
    process = subprocess.Popen(_command(fake_url, plan, tmp_path), cwd=ROOT, stderr=subprocess.PIPE,
                               text=True)
    try:
        started = tmp_path / "out" / "started.json"
        wait_until(lambda: process.poll() is not None or started.exists(), 30, "the load started")
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        # the interrupt under test lands a second past the warm-up, well before the planned end
        time.sleep(max(0.0, json.loads(started.read_text())["epoch_s"] + plan["warmup_s"] + 1 - time.time()))
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 130, process.stderr.read() if process.stderr else ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["interrupted"] is True
    assert 0 < summary["measured_s"] < 60
    assert sum(summary["requests"].values()) > 0
    assert (tmp_path / "out" / "windows.csv").exists()


def test_the_floor_is_measured_before_the_load_and_kept_apart_from_it(
        fake_url: str, tmp_path: Path) -> None:
    floor = {"path": "/health", "rate": 50.0, "duration_s": 1.5, "warmup_s": 0.5}
    plan = {**_only_search("open", rate=20.0, arrival="fixed"), "floor": floor}

    summary = _run(fake_url, plan, tmp_path)

    assert summary["floor"]["count"] == 50 and summary["floor"]["errors"] == 0  # 1 s at 50/s
    assert 0 < summary["floor"]["p50_ms"] <= summary["floor"]["p99_ms"]
    assert set(summary["requests"]) == {"search_availability"}  # the probe is not an operation
    assert not (tmp_path / "out" / "histograms" / "health.hdr").exists()
    assert summary["arrivals"] == 50  # 2.5 measured seconds at 20/s
    assert summary["late_starts_pool_full"] <= summary["late_starts"]
