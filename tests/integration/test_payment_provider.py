"""The real provider process over HTTP: idempotency under concurrency, refunds, validation,
and a ledger that survives SIGKILL."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.polling import wait_until

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_DEADLINE_S = 20.0
LATENCY_S = 0.2


@dataclass
class Provider:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.base_url + path, timeout=10)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.post(self.base_url + path, timeout=10, **kwargs)

    def ledger(self) -> dict[str, list[dict[str, Any]]]:
        return self.get("/ledger").json()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(provider: Provider) -> None:
    def healthy() -> bool:
        if provider.process.poll() is not None:
            pytest.fail(f"provider exited early:\n{provider.log.read_text()}")
        return httpx.get(provider.base_url + "/health", timeout=0.5).status_code == 200

    try:
        wait_until(healthy, STARTUP_DEADLINE_S, "the provider healthy", ignoring=(httpx.TransportError,))
    except AssertionError as error:
        pytest.fail(f"{error}\n{provider.log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


StartProvider = Callable[..., Provider]


@pytest.fixture(scope="module")
def start_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartProvider]:
    processes: list[subprocess.Popen[bytes]] = []
    logs = tmp_path_factory.mktemp("provider-logs")

    def start(*args: str) -> Provider:
        port = _free_port()
        log = logs / f"provider-{len(processes)}.log"
        env = os.environ | {
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])
            )
        }
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "apps.payment_provider", "--port", str(port), *args],
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        processes.append(process)
        provider = Provider(process, f"http://127.0.0.1:{port}", log)
        _wait_healthy(provider)
        return provider

    try:
        yield start
    finally:
        for process in processes:
            _stop(process)


@pytest.fixture(scope="module")
def provider(start_provider: StartProvider) -> Provider:
    return start_provider("--latency", f"fixed:{LATENCY_S}", "--seed", "3")


def _authorization(key: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "idempotency_key": key,
        "booking_id": f"booking-{key}",
        "amount_cents": 25_000,
        "card_token": "tok_visa",
    }
    return body | overrides


def _refund(key: str, authorization_id: str, amount: int) -> dict[str, Any]:
    return {"idempotency_key": key, "authorization_id": authorization_id, "amount_cents": amount}


def _records_with_key(records: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [record for record in records if record["idempotency_key"] == key]


def test_concurrent_retries_during_the_latency_make_one_authorization(provider: Provider) -> None:
    async def twenty_at_once() -> tuple[list[httpx.Response], float]:
        async with httpx.AsyncClient(base_url=provider.base_url, timeout=10) as http:
            started = time.monotonic()
            responses = await asyncio.gather(
                *(
                    http.post("/authorizations", json=_authorization("concurrent"))
                    for _ in range(20)
                )
            )
            return list(responses), time.monotonic() - started

    responses, elapsed = asyncio.run(twenty_at_once())
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert elapsed < 10 * LATENCY_S  # they waited for one attempt, not twenty in a row
    assert len(_records_with_key(provider.ledger()["authorizations"], "concurrent")) == 1


def test_the_same_key_with_a_different_body_is_409(provider: Provider) -> None:
    assert provider.post("/authorizations", json=_authorization("conflict")).status_code == 200
    response = provider.post("/authorizations", json=_authorization("conflict", amount_cents=1))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_conflict"


def test_tok_decline_declines(provider: Provider) -> None:
    response = provider.post(
        "/authorizations", json=_authorization("dec", card_token="tok_decline")
    )
    assert response.json()["status"] == "declined"
    (record,) = _records_with_key(provider.ledger()["authorizations"], "dec")
    assert record["status"] == "declined"


def test_a_refund_happens_once_however_often_it_is_retried(provider: Provider) -> None:
    auth_id = provider.post("/authorizations", json=_authorization("to-refund")).json()[
        "authorization_id"
    ]
    first = provider.post("/refunds", json=_refund("refund-1", auth_id, 25_000))
    retry = provider.post("/refunds", json=_refund("refund-1", auth_id, 25_000))
    assert first.status_code == 200
    assert first.json()["status"] == "refunded"
    assert retry.content == first.content
    assert len(_records_with_key(provider.ledger()["refunds"], "refund-1")) == 1


def test_an_over_refund_is_409(provider: Provider) -> None:
    auth_id = provider.post("/authorizations", json=_authorization("over")).json()[
        "authorization_id"
    ]
    response = provider.post("/refunds", json=_refund("over-refund", auth_id, 25_001))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_refundable"
    assert _records_with_key(provider.ledger()["refunds"], "over-refund") == []


@pytest.mark.parametrize(
    ("request_kwargs", "field"),
    [
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, "body"),
        ({"json": _authorization("bad") | {"currency": "EUR"}}, "currency"),
        ({"json": _authorization("bad", amount_cents=True)}, "amount_cents"),
    ],
)
def test_invalid_requests_are_422(
    provider: Provider, request_kwargs: dict[str, Any], field: str
) -> None:
    response = provider.post("/authorizations", **request_kwargs)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"].startswith(f"{field}:")


def test_the_openapi_document_is_served(provider: Provider) -> None:
    document = provider.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert "/authorizations" in document["paths"]


def test_the_ledger_survives_a_crash(start_provider: StartProvider, tmp_path: Path) -> None:
    ledger_file = tmp_path / "ledger.jsonl"
    args = ("--latency", "none", "--ledger", str(ledger_file))
    first = start_provider(*args)
    original = first.post("/authorizations", json=_authorization("durable"))
    assert original.status_code == 200
    first.process.kill()  # SIGKILL: no shutdown hook runs
    first.process.wait(timeout=5)

    second = start_provider(*args)
    retry = second.post("/authorizations", json=_authorization("durable"))
    assert retry.json()["authorization_id"] == original.json()["authorization_id"]
    assert retry.content == original.content
    assert second.ledger()["authorizations"] == [original.json()]
