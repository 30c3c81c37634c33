"""All five services on real PostgreSQL, NATS and the payment provider, with inventory and payment
SIGKILLed and restarted while bookings flow: every booking still ends terminal, nothing is
overbooked or charged twice, and the read side converges on the write side."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from apps.microservices.booking.aggregate import StoredEvent, fold
from harness.deploy.nats import NatsServer
from harness.deploy.postgres import PostgresServer
from harness.deploy.supervisor import free_port
from tests.integration.ms_support import Deployment, Service
from tests.support.polling import wait_until_async

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
ORDER = ("inventory", "payment", "notification", "query", "booking")
TERMINAL = {"confirmed", "rejected", "cancelled"}


@pytest.fixture
def system(postgres: PostgresServer, nats_server: NatsServer,
           tmp_path: Path) -> Iterator[Deployment]:
    deployment = Deployment(postgres, nats_server, tmp_path / "ms")
    try:
        provider = deployment.start_provider(latency="fixed:0.2")
        for name in ORDER:
            env = {"ARCHBENCH_DSN": deployment.init(name), "ARCHBENCH_NATS_URL": nats_server.url,
                   "ARCHBENCH_PAYMENT_URL": provider, "ARCHBENCH_ACK_WAIT_S": "2"}
            service = Service(name, env["ARCHBENCH_DSN"], free_port(), env)
            deployment.services[name] = service
            deployment.serve(service)
        yield deployment
    finally:
        deployment.close()


def _url(system: Deployment, name: str) -> str:
    return f"http://127.0.0.1:{system.services[name].port}"


async def _book(client: httpx.AsyncClient, i: int) -> str:
    body = {"customer_id": f"flow-{i % 5}", "room_type_id": f"h000{1 + i % 2}-r{1 + i % 2}",
            "check_in": f"2027-01-{1 + i % 6:02d}", "nights": 2,
            "card_token": "tok_decline" if i % 7 == 0 else "tok_ok"}
    response = await client.post("/bookings", json=body,
                                 headers={"Idempotency-Key": f"flow-{i}"})
    assert response.status_code in (201, 202), response.text
    return response.json()["booking_id"]


async def _terminal(system: Deployment, ids: list[str], timeout: float = 60) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=_url(system, "query"), timeout=10) as client:
        async def statuses() -> dict[str, str | None]:
            seen = {}
            for booking_id in ids:
                response = await client.get(f"/bookings/{booking_id}")
                seen[booking_id] = response.json()["status"] if response.is_success else None
            return seen

        return await wait_until_async(statuses, timeout, "every booking terminal", 0.2,
                                      done=lambda seen: all(s in TERMINAL for s in seen.values()))


async def _authorizations_in_flight(system: Deployment) -> None:
    """The kill must land while the payment service waits on the provider."""
    port = int(system.provider_url.rsplit(":", 1)[1])
    await wait_until_async(lambda: system.connections_to("payment", port) > 0, 2,
                           "an authorization in flight to kill", 0.02)


def _restart_after_kill(system: Deployment, name: str) -> None:
    system.kill(name)
    system.serve(system.services[name])


async def test_killing_inventory_and_payment_mid_flow_loses_and_duplicates_nothing(
        system: Deployment) -> None:
    ids: list[str] = []
    async with httpx.AsyncClient(base_url=_url(system, "booking"), timeout=10) as booking:
        ids += await asyncio.gather(*(_book(booking, i) for i in range(0, 20)))
        await _authorizations_in_flight(system)
        _restart_after_kill(system, "payment")
        ids += await asyncio.gather(*(_book(booking, i) for i in range(20, 40)))
        _restart_after_kill(system, "inventory")
        ids += await asyncio.gather(*(_book(booking, i) for i in range(40, 60)))
        _restart_after_kill(system, "query")
        ids += await asyncio.gather(*(_book(booking, i) for i in range(60, 70)))

    statuses = await _terminal(system, ids)
    async with httpx.AsyncClient(base_url=_url(system, "booking"), timeout=10) as booking:
        confirmed = [b for b, s in statuses.items() if s == "confirmed"]
        for booking_id in confirmed[:5]:
            assert (await booking.post(f"/bookings/{booking_id}/cancel")).status_code == 200
    statuses = await _terminal(system, ids)

    write_side = await _write_side(system.services["booking"])
    await _wait_converged(system, write_side)
    assert {b: s.status.value for b, s in write_side.items()} == statuses
    assert Counter(statuses.values())["cancelled"] == 5

    expected: Counter[tuple[str, str]] = Counter()
    for b in write_side.values():
        if b.status.value == "confirmed":
            for night in range(b.nights):
                expected[(b.room_type_id, str(b.check_in.toordinal() + night))] += b.units
    # releases follow the cancellations asynchronously
    held = await wait_until_async(lambda: _held(system.services["inventory"]), 10,
                                  "the cancelled bookings' units released", 0.1, done=expected.__eq__)
    assert all(units <= 3 for units in held.values())

    # refunds follow the cancellations asynchronously
    ledger = await wait_until_async(system.ledger, 10, "five refunds", 0.1,
                                    done=lambda seen: len(seen["refunds"]) >= 5)
    approved = Counter(a["booking_id"] for a in ledger["authorizations"] if a["status"] == "approved")
    refunds = Counter(r["authorization_id"] for r in ledger["refunds"])
    charged = {b for b, s in write_side.items() if s.status.value in ("confirmed", "cancelled")}
    assert set(approved) == charged and max(approved.values()) == 1
    assert len(refunds) == 5 and max(refunds.values()) == 1
    assert not {b for b, s in write_side.items() if s.status.value == "rejected"} & set(approved)


async def _write_side(service: Service) -> dict[str, Any]:
    rows = await service.fetch("SELECT aggregate_id, sequence, event_id, type, payload::text AS p, "
                               "occurred_at FROM booking_events ORDER BY aggregate_id, sequence")
    by_id: dict[str, list[StoredEvent]] = {}
    for r in rows:
        by_id.setdefault(r["aggregate_id"], []).append(StoredEvent(
            r["aggregate_id"], r["sequence"], r["event_id"], r["type"], orjson.loads(r["p"]),
            r["occurred_at"]))
    return {b: fold(events) for b, events in by_id.items()}


async def _wait_converged(system: Deployment, write_side: dict[str, Any]) -> None:
    query = system.services["query"]

    async def read_side() -> dict[str, tuple[str, Any]]:
        rows = await query.fetch("SELECT booking_id, status, updated_at FROM booking_view")
        return {r["booking_id"]: (r["status"], r["updated_at"]) for r in rows}

    await wait_until_async(read_side, 20, "the read side converged on the write side", 0.1,
                           done={b: (s.status.value, s.updated_at) for b, s in write_side.items()}.__eq__)


async def _held(service: Service) -> Counter[tuple[str, str]]:
    rows = await service.fetch("SELECT room_type_id, night, held FROM inventory WHERE held > 0")
    return Counter({(r["room_type_id"], str(r["night"].toordinal())): r["held"] for r in rows})

