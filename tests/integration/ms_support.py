"""Running one microservice for real (its own database, the test's NATS, a payment provider when it
needs one) and driving it through JetStream: publish envelopes, read its stream, poll its state."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tomllib
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import ConsumerInfo
from nats.js.errors import NotFoundError

from apps.booking.events import (
    BookingCancelled,
    BookingConfirmed,
    BookingRejected,
    BookingRequested,
    Event,
    InventoryReserved,
)
from apps.booking.lifecycle import RejectionReason
from apps.microservices.common import bus
from apps.microservices.common.envelope import Envelope, envelope_for, stream_name, subject
from harness.deploy.nats import NatsServer
from harness.deploy.postgres import PostgresServer
from harness.deploy.supervisor import ManagedProcess, Supervisor, free_port
from tests.support.paths import ROOT
from tests.support.stacks import DATASET, http_ok

ROOM = "h0001-r1"  # 3 units per night in the integration dataset
CHECK_IN = date(2027, 1, 10)


def manifest(service: str) -> dict[str, Any]:
    path = ROOT / "apps" / "microservices" / service / "manifest.toml"
    return tomllib.loads(path.read_text())


@dataclass
class Service:
    name: str
    dsn: str
    port: int
    env: dict[str, str]

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.dsn)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    async def tables(self) -> set[str]:
        rows = await self.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r["tablename"] for r in rows}


@dataclass
class Deployment:
    """Processes of one test, all stopped by `close`."""

    postgres: PostgresServer
    nats: NatsServer
    root: Path
    supervisor: Supervisor = field(init=False)
    services: dict[str, Service] = field(default_factory=dict)
    provider_url: str = ""

    def __post_init__(self) -> None:
        self.supervisor = Supervisor(self.root)

    def close(self) -> None:
        self.supervisor.stop_all()

    def start_provider(self, latency: str = "none", port: int | None = None) -> str:
        port = port or free_port()
        self.supervisor.start(
            "payment_provider",
            [sys.executable, "-m", "apps.payment_provider", "--port", str(port),
             "--latency", latency, "--ledger", str(self.root / "ledger.jsonl")],
            cwd=ROOT, health=http_ok(f"http://127.0.0.1:{port}/health"),
        )
        self.provider_url = f"http://127.0.0.1:{port}"
        return self.provider_url

    def ledger(self) -> dict[str, list[dict[str, Any]]]:
        return httpx.get(f"{self.provider_url}/ledger", timeout=10).json()

    def init(self, name: str) -> str:
        dsn = self.postgres.create_database(f"ms_{name}_{uuid.uuid4().hex[:10]}")
        self.run_init(name, dsn)
        return dsn

    def run_init(self, name: str, dsn: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "apps.microservices", name, "init", "--dsn", dsn,
             "--dataset", json.dumps(DATASET)],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )
        assert done.returncode == 0, done.stderr

    def start_service(self, name: str, payment_url: str | None = None) -> Service:
        env = {"ARCHBENCH_DSN": self.init(name), "ARCHBENCH_NATS_URL": self.nats.url}
        if payment_url is not None:
            env["ARCHBENCH_PAYMENT_URL"] = payment_url
        service = Service(name, env["ARCHBENCH_DSN"], free_port(), env)
        self.services[name] = service
        self.serve(service)
        return service

    def serve(self, service: Service) -> ManagedProcess:
        return self.supervisor.start(
            service.name,
            [sys.executable, "-m", "apps.microservices", service.name, "serve",
             "--port", str(service.port)],
            cwd=ROOT, env=service.env, timeout=60,
            health=http_ok(f"http://127.0.0.1:{service.port}/health"),
        )

    def connections_to(self, name: str, port: int) -> int:
        """Open TCP connections from service `name` to `port`: requests it has in flight there."""
        proc = psutil.Process(self.supervisor.get(name).pid)
        return sum(1 for c in proc.net_connections(kind="tcp")
                   if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED)

    def kill(self, name: str) -> None:
        """SIGKILL, as a crash: no shutdown code runs in the service."""
        proc = self.supervisor.get(name)
        proc.popen.send_signal(signal.SIGKILL)
        proc.popen.wait(10)
        self.supervisor.stop(name)


class EventBus:
    """A test's own NATS connection: publishes as any producer, reads any service's stream."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.nc: Client | None = None
        self.js: JetStreamContext | None = None
        self.published: dict[str, int] = {}

    async def __aenter__(self) -> EventBus:
        self.nc, self.js = await bus.connect(self.url, "integration-test")
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.nc is not None
        await self.nc.close()

    async def publish(self, producer: str, envelope: Envelope, msg_id: str | None = None) -> None:
        """Publish `envelope`; a fresh `msg_id` makes JetStream keep (and deliver) it again."""
        assert self.js is not None
        await bus.ensure_stream(self.js, producer)
        await self.js.publish(subject(producer, envelope.type), envelope.to_bytes(),
                              headers={"Nats-Msg-Id": msg_id or envelope.event_id})
        self.published[producer] = self.published.get(producer, 0) + 1

    async def emit(self, producer: str, event: Event, booking_id: str) -> Envelope:
        envelope = envelope_for(event, aggregate_id=booking_id)
        await self.publish(producer, envelope)
        return envelope

    async def events(self, producer: str) -> list[Envelope]:
        """Every message in `producer`'s stream, in order."""
        assert self.js is not None
        try:
            info = await self.js.stream_info(stream_name(producer))
        except NotFoundError:
            return []
        if info.state.messages == 0:
            return []
        return [Envelope.from_bytes((await self.js.get_msg(stream_name(producer), seq)).data)
                for seq in range(info.state.first_seq, info.state.last_seq + 1)]

    async def types(self, producer: str) -> list[str]:
        return [e.type for e in await self.events(producer)]

    async def consumer_info(self, consumer: str, producer: str) -> ConsumerInfo | None:
        """The durable consumer `consumer` keeps on `producer`'s stream; None before it exists."""
        assert self.js is not None
        try:
            return await self.js.consumer_info(stream_name(producer),
                                               bus.durable_name(consumer, producer))
        except NotFoundError:
            return None

    async def deliveries(self, consumer: str, producer: str) -> int:
        """How many times messages were handed to `consumer`, redeliveries included."""
        info = await self.consumer_info(consumer, producer)
        return 0 if info is None else info.delivered.consumer_seq

    async def handled_all(self, consumer: str, producer: str,
                          relayed_by: Service | None = None) -> bool:
        """True once `consumer` has acked everything this test published to `producer` (and,
        given the consuming service, once its outbox is empty: what it emitted is published)."""
        info = await self.consumer_info(consumer, producer)
        if info is None:
            return False
        if not (info.ack_floor.stream_seq >= self.published.get(producer, 0)
                and info.num_pending == 0 and info.num_ack_pending == 0):
            return False
        if relayed_by is None:
            return True
        return not await relayed_by.fetch("SELECT 1 FROM outbox LIMIT 1")


def new_booking_id() -> str:
    return str(uuid.uuid4())


def requested(booking_id: str, *, units: int = 1, nights: int = 2, card_token: str = "tok_ok",
              room_type_id: str = ROOM, check_in: date = CHECK_IN) -> BookingRequested:
    return BookingRequested(
        booking_id=booking_id, customer_id=f"c-{booking_id[:8]}", hotel_id=room_type_id[:5],
        room_type_id=room_type_id, check_in=check_in, nights=nights, units=units,
        amount_cents=10_000 * nights * units, card_token=card_token,
    )


def reserved(booking_id: str, *, amount_cents: int = 20_000,
             card_token: str = "tok_ok") -> InventoryReserved:
    return InventoryReserved(
        booking_id=booking_id, room_type_id=ROOM, check_in=CHECK_IN, nights=2, units=1,
        amount_cents=amount_cents, card_token=card_token,
    )


def confirmed(booking_id: str) -> BookingConfirmed:
    return BookingConfirmed(booking_id=booking_id, customer_id=f"c-{booking_id[:8]}",
                            authorization_id="auth_x", amount_cents=20_000)


def rejected(booking_id: str, reason: RejectionReason, *, units: int = 1) -> BookingRejected:
    return BookingRejected(booking_id=booking_id, customer_id=f"c-{booking_id[:8]}", reason=reason,
                           room_type_id=ROOM, check_in=CHECK_IN, nights=2, units=units)


def cancelled(booking_id: str, *, units: int = 1) -> BookingCancelled:
    return BookingCancelled(booking_id=booking_id, customer_id=f"c-{booking_id[:8]}",
                            room_type_id=ROOM, check_in=CHECK_IN, nights=2, units=units,
                            amount_cents=20_000 * units)
