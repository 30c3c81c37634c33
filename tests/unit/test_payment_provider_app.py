"""The provider's HTTP behaviour, in-process over an ASGI transport (no sockets, latency none)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
import pytest
from starlette.applications import Starlette

from apps.payment_provider.app import create_app
from apps.payment_provider.config import ProviderConfig
from apps.payment_provider.latency import NoLatency


class InProcessClient:
    """Synchronous calls into the app on one event loop that lives as long as the client."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self._runner = asyncio.Runner()
        self._http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://provider"
        )

    def get(self, path: str) -> httpx.Response:
        return self._runner.run(self._http.get(path))

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self._runner.run(self._http.post(path, **kwargs))

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._runner.run(self._http.aclose())
        self._runner.close()
        self.app.state.ledger.close()


def _client(**config: Any) -> InProcessClient:
    return InProcessClient(create_app(ProviderConfig(latency=NoLatency(), seed=7, **config)))


@pytest.fixture
def client() -> Iterator[InProcessClient]:
    with _client() as test_client:
        yield test_client


def _authorization(key: str = "k1", **overrides: Any) -> dict[str, Any]:
    body = {
        "idempotency_key": key,
        "booking_id": f"booking-{key}",
        "amount_cents": 10_000,
        "card_token": "tok_visa",
    }
    return body | overrides


def _authorize(client: InProcessClient, key: str = "k1", **overrides: Any) -> dict[str, Any]:
    response = client.post("/authorizations", json=_authorization(key, **overrides))
    assert response.status_code == 200, response.text
    return response.json()


def _refund(auth_id: str, amount: int, key: str = "r1") -> dict[str, Any]:
    return {"idempotency_key": key, "authorization_id": auth_id, "amount_cents": amount}


def _error_code(response: Any) -> str:
    return response.json()["error"]["code"]


def test_health_answers_ok(client: InProcessClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_an_authorization_is_approved_and_recorded(client: InProcessClient) -> None:
    answer = _authorize(client)
    assert answer["status"] == "approved"
    assert answer["booking_id"] == "booking-k1"
    assert answer["amount_cents"] == 10_000
    assert answer["idempotency_key"] == "k1"
    assert answer["created_at"].endswith("Z")
    assert client.get("/ledger").json() == {"authorizations": [answer], "refunds": []}


def test_tok_decline_is_declined_and_recorded_as_declined(client: InProcessClient) -> None:
    answer = _authorize(client, card_token="tok_decline")
    assert answer["status"] == "declined"
    assert client.get("/ledger").json()["authorizations"] == [answer]


def test_decline_rate_one_declines_every_card() -> None:
    with _client(decline_rate=1.0) as client:
        assert _authorize(client)["status"] == "declined"


def test_a_retry_with_the_same_body_returns_the_same_bytes_and_records_nothing(
    client: InProcessClient,
) -> None:
    first = client.post("/authorizations", json=_authorization())
    second = client.post("/authorizations", json=_authorization())
    assert first.content == second.content
    assert len(client.get("/ledger").json()["authorizations"]) == 1


def test_the_same_key_with_a_different_body_is_a_conflict(client: InProcessClient) -> None:
    _authorize(client)
    response = client.post("/authorizations", json=_authorization(amount_cents=1))
    assert response.status_code == 409
    assert _error_code(response) == "idempotency_conflict"
    assert len(client.get("/ledger").json()["authorizations"]) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_authorization() | {"extra": 1}, "extra"),
        ({k: v for k, v in _authorization().items() if k != "card_token"}, "card_token"),
        (_authorization(amount_cents=True), "amount_cents"),
        (_authorization(amount_cents=0), "amount_cents"),
        (_authorization(amount_cents=-5), "amount_cents"),
        (_authorization(amount_cents=10.0), "amount_cents"),
        (_authorization(amount_cents="100"), "amount_cents"),
        (_authorization(booking_id=""), "booking_id"),
        (_authorization(booking_id="b" * 129), "booking_id"),
        (_authorization(idempotency_key=5), "idempotency_key"),
        (_authorization(card_token=None), "card_token"),
        ([1, 2], "body"),
    ],
)
def test_invalid_authorizations_are_rejected_naming_the_field(
    client: InProcessClient, body: Any, field: str
) -> None:
    response = client.post("/authorizations", json=body)
    assert response.status_code == 422
    assert _error_code(response) == "validation_error"
    assert response.json()["error"]["message"].startswith(f"{field}:")
    assert client.get("/ledger").json()["authorizations"] == []


def test_malformed_json_is_a_validation_error(client: InProcessClient) -> None:
    response = client.post(
        "/authorizations",
        content=b'{"idempotency_key": ',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "validation_error",
        "message": "body: malformed JSON",
    }


def test_a_refund_is_recorded_once_per_key(client: InProcessClient) -> None:
    auth = _authorize(client)
    first = client.post("/refunds", json=_refund(auth["authorization_id"], 10_000))
    again = client.post("/refunds", json=_refund(auth["authorization_id"], 10_000))
    assert first.status_code == 200
    assert first.content == again.content
    refund = first.json()
    assert refund["status"] == "refunded"
    assert refund["authorization_id"] == auth["authorization_id"]
    assert client.get("/ledger").json()["refunds"] == [refund]


def test_partial_refunds_add_up_to_the_authorized_amount_and_no_more(
    client: InProcessClient,
) -> None:
    auth_id = _authorize(client)["authorization_id"]
    assert client.post("/refunds", json=_refund(auth_id, 6_000, "r1")).status_code == 200
    over = client.post("/refunds", json=_refund(auth_id, 4_001, "r2"))
    assert over.status_code == 409
    assert _error_code(over) == "not_refundable"
    assert client.post("/refunds", json=_refund(auth_id, 4_000, "r3")).status_code == 200
    assert len(client.get("/ledger").json()["refunds"]) == 2


def test_a_refund_of_an_unknown_authorization_is_not_found(client: InProcessClient) -> None:
    response = client.post("/refunds", json=_refund("auth_missing", 1))
    assert response.status_code == 404
    assert _error_code(response) == "not_found"


def test_a_declined_authorization_is_not_refundable(client: InProcessClient) -> None:
    auth_id = _authorize(client, card_token="tok_decline")["authorization_id"]
    response = client.post("/refunds", json=_refund(auth_id, 1))
    assert response.status_code == 409
    assert _error_code(response) == "not_refundable"


def test_a_refund_key_reused_with_another_amount_is_a_conflict(client: InProcessClient) -> None:
    auth_id = _authorize(client)["authorization_id"]
    client.post("/refunds", json=_refund(auth_id, 100))
    response = client.post("/refunds", json=_refund(auth_id, 200))
    assert response.status_code == 409
    assert _error_code(response) == "idempotency_conflict"


def test_refund_bodies_are_validated(client: InProcessClient) -> None:
    response = client.post("/refunds", json=_refund("a", 1) | {"reason": "x"})
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("reason:")


def test_authorization_and_refund_keys_are_separate_namespaces(client: InProcessClient) -> None:
    auth_id = _authorize(client, key="same")["authorization_id"]
    assert client.post("/refunds", json=_refund(auth_id, 1, key="same")).status_code == 200


def test_the_ledger_lists_records_in_creation_order(client: InProcessClient) -> None:
    ids = [_authorize(client, key=f"k{i}")["authorization_id"] for i in range(5)]
    ledger = client.get("/ledger").json()
    assert [a["authorization_id"] for a in ledger["authorizations"]] == ids


def test_latency_can_be_changed_at_run_time(client: InProcessClient) -> None:
    response = client.post("/admin/latency", json={"latency": "exponential:0.001"})
    assert response.status_code == 200
    assert response.json() == {"latency": "exponential:0.001"}
    assert client.app.state.latency.distribution.spec() == "exponential:0.001"


@pytest.mark.parametrize("body", [{"latency": "slow"}, {"latency": 5}, {"spec": "none"}])
def test_a_bad_latency_change_is_rejected(client: InProcessClient, body: dict[str, Any]) -> None:
    response = client.post("/admin/latency", json=body)
    assert response.status_code == 422
    assert _error_code(response) == "validation_error"


def test_the_openapi_document_describes_every_endpoint(client: InProcessClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {
        "/health",
        "/authorizations",
        "/refunds",
        "/ledger",
        "/admin/latency",
    }
    request = document["components"]["schemas"]["AuthorizationRequest"]
    assert request["additionalProperties"] is False
    assert set(request["required"]) == {
        "idempotency_key",
        "booking_id",
        "amount_cents",
        "card_token",
    }


def test_unknown_paths_and_methods_answer_with_the_error_shape(client: InProcessClient) -> None:
    missing = client.get("/nope")
    assert missing.status_code == 404
    assert _error_code(missing) == "not_found"
    wrong_method = client.get("/authorizations")
    assert wrong_method.status_code == 405
    assert _error_code(wrong_method) == "method_not_allowed"


def test_a_restarted_provider_remembers_keys_and_ledger(tmp_path: Path) -> None:
    ledger_path = tmp_path / "ledger.jsonl"
    with _client(ledger_path=ledger_path) as client:
        first = client.post("/authorizations", json=_authorization())
        auth_id = first.json()["authorization_id"]
        client.post("/refunds", json=_refund(auth_id, 2_500))
    with _client(ledger_path=ledger_path) as client:
        retry = client.post("/authorizations", json=_authorization())
        assert retry.content == first.content
        conflict = client.post("/authorizations", json=_authorization(amount_cents=3))
        assert conflict.status_code == 409
        over = client.post("/refunds", json=_refund(auth_id, 7_501, key="r2"))
        assert _error_code(over) == "not_refundable"
        ledger = client.get("/ledger").json()
    assert len(ledger["authorizations"]) == 1
    assert len(ledger["refunds"]) == 1
