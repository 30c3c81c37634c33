"""Where a microservices booking's end-to-end time goes, hop by hop, on an otherwise idle system.

Deploys the microservices through the harness, books one stay at a time (POST /bookings, then
GET /bookings/{id} with `Prefer: wait` until it is decided), then reads every service's inbox:
each claim records when its event occurred (the producer's clock, before its commit) and when
the consumer's transaction began. JetStream's own timestamp of each stored message splits every
hop in two: occurred -> stored (outbox insert, COMMIT, relay publish) and stored -> the
consumer's BEGIN (delivery, the consumer's dispatch, pool and BEGIN; for payment, the provider
call too, made before its transaction opens). An event's time is kept to the millisecond (the
contract's precision), so every "occurred ->" figure reads about 0.5 ms long.
Each booking takes a different hotel's room, so none is refused as sold out.

Usage: .venv/bin/python benchmarks/hop_latency.py [--bookings 60] [--gap 0.2] [--latency fixed:0.005]
Prints p50 and max per hop (event type -> consumer) and the two halves over all hops.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
import nats

from harness.config.scenario import Dataset, PaymentProvider, Scenario
from harness.deploy.deployment import deployed

STREAMS = ("BOOKING", "INVENTORY", "PAYMENT", "NOTIFICATION")
HOTELS = 200
DECIDED_WITHIN_S = 30.0


async def book(base_url: str, count: int, gap_s: float) -> tuple[list[float], list[float]]:
    """Client-side milliseconds of each POST and of each booking until decided."""
    posted, decided = [], []
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        for i in range(count):
            body = {"customer_id": f"c{i}", "room_type_id": f"h{1 + i % HOTELS:04d}-r1",
                    "check_in": "2027-01-10", "nights": 1 + i % 3, "units": 1,
                    "card_token": "tok_ok"}
            start = time.perf_counter()
            answer = await client.post("/bookings", json=body)
            answer.raise_for_status()
            posted.append((time.perf_counter() - start) * 1e3)
            booking_id = answer.json()["booking_id"]
            while True:
                if time.perf_counter() - start > DECIDED_WITHIN_S:
                    raise SystemExit(f"booking {booking_id} undecided after {DECIDED_WITHIN_S} s")
                seen = await client.get(f"/bookings/{booking_id}", headers={"Prefer": "wait=5"})
                if seen.status_code == 200 and seen.json()["status"] != "pending":
                    break
            decided.append((time.perf_counter() - start) * 1e3)
            await asyncio.sleep(gap_s)
    return posted, decided


async def stored_at(nats_url: str) -> dict[str, datetime]:
    """When JetStream stored each event, by event id (the relay's Nats-Msg-Id)."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        stored = {}
        for stream in STREAMS:
            state = (await js.stream_info(stream)).state
            for seq in range(state.first_seq, state.last_seq + 1):
                msg = await js.get_msg(stream, seq)
                stored[msg.headers["Nats-Msg-Id"]] = msg.time
        return stored
    finally:
        await nc.close()


async def claims(databases: dict[str, str]) -> list[asyncpg.Record]:
    rows = []
    for dsn in databases.values():
        conn = await asyncpg.connect(dsn)
        try:
            rows += await conn.fetch(
                "SELECT consumer, event_id, type, occurred_at, processed_at FROM inbox")
        finally:
            await conn.close()
    return rows


def line(label: str, values: list[float]) -> str:
    return (f"| {label} | {len(values)} | {statistics.median(values):.1f} "
            f"| {max(values):.1f} |")


async def measure(base_url: str, databases: dict[str, str], nats_url: str,
                  args: argparse.Namespace) -> None:
    posted, decided = await book(base_url, args.bookings, args.gap)
    stored = await stored_at(nats_url)
    hops: dict[str, list[float]] = {}
    halves: dict[str, list[float]] = {"occurred -> stored": [], "stored -> consumer BEGIN": []}
    for row in await claims(databases):
        hops.setdefault(f"{row['type']} -> {row['consumer']}", []).append(
            (row["processed_at"] - row["occurred_at"]).total_seconds() * 1e3)
        at = stored.get(row["event_id"])
        if at is not None:
            halves["occurred -> stored"].append((at - row["occurred_at"]).total_seconds() * 1e3)
            halves["stored -> consumer BEGIN"].append(
                (row["processed_at"] - at).total_seconds() * 1e3)
    print(f"\n{args.bookings} bookings one at a time, {args.gap} s apart; payment latency "
          f"{args.latency}\n")
    print("| hop | n | p50 ms | max ms |\n|---|---|---|---|")
    print(line("client: POST /bookings", posted))
    print(line("client: POST until decided", decided))
    for name, values in sorted(hops.items(), key=lambda kv: -statistics.median(kv[1])):
        print(line(name, values))
    for name, values in halves.items():
        print(line(f"every hop: {name}", values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=60)
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between bookings")
    parser.add_argument("--latency", default="fixed:0.005", help="payment provider latency")
    args = parser.parse_args()
    scenario = Scenario(
        dataset=Dataset(hotels=HOTELS, room_types_per_hotel=3, units_per_room_type=50),
        payment_provider=PaymentProvider(latency=args.latency),
    )
    with tempfile.TemporaryDirectory() as tmp, deployed(
            "microservices", scenario, root=Path(tmp) / "d") as dep:
        asyncio.run(measure(dep.base_url, dep.databases, dep.endpoints["nats"], args))


if __name__ == "__main__":
    main()
