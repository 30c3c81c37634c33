"""`archbench check`: wait until a live deployment is quiet, then check the five invariants of
DESIGN.md from its databases (SQL), the payment provider's ledger and JetStream's monitoring.

The harness never imports the apps: the tables are read by name, as the apps' DDL declares them,
by the architecture's reader (harness.verify.readers).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from harness.config.architectures import spec_of
from harness.config.errors import HarnessError
from harness.verify.invariants import Ledger, Result, Snapshot, check_all, status_counts
from harness.verify.readers import reader_for
from harness.verify.readers.common import Databases
from harness.verify.replay import replay_deployment

MAX_LISTED = 50  # violations kept per invariant in the report; the rest are counted
POLL_S = 0.25
LEDGER = Path("payment_provider") / "ledger.jsonl"
# what the money invariant reads of each ledger line; a line without it is unreadable
LEDGER_FIELDS = {"authorization": ("authorization_id", "booking_id", "amount_cents", "status"),
                 "refund": ("refund_id", "authorization_id", "amount_cents")}

# ---- quiescence ------------------------------------------------------------------------------


def wait_quiescent(state: dict[str, Any], timeout_s: float = 60.0) -> dict[str, Any]:
    """Poll until nothing is in flight and nothing moved between two consecutive polls.

    What is in flight is the architecture's reader's to say (single app: pending bookings and
    refunds owed; services: those, unrelayed outbox rows and JetStream consumers behind). On
    timeout it returns `quiescent: False` with what was still in flight; it never raises for that,
    since a booking stuck pending is what the check must report.
    """
    return asyncio.run(_wait_quiescent(state, timeout_s))


async def _wait_quiescent(state: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    reader = reader_for(spec_of(state["architecture"]))
    waited_for = [*reader.WAITED_FOR, "nothing changed between two polls"]
    started = time.monotonic()
    previous: object = None
    polls = 0
    async with Databases(state["databases"]) as dbs, httpx.AsyncClient(timeout=5) as http:
        while True:
            polls += 1
            in_flight, signature = await reader.probe(dbs, state, http)
            busy = {k: v for k, v in in_flight.items() if v}
            waited = time.monotonic() - started
            if not busy and signature == previous:
                return {"quiescent": True, "waited_s": round(waited, 3), "polls": polls,
                        "timeout_s": timeout_s, "waited_for": waited_for, "in_flight": {}}
            if waited >= timeout_s:
                return {"quiescent": False, "waited_s": round(waited, 3), "polls": polls,
                        "timeout_s": timeout_s, "waited_for": waited_for, "in_flight": busy}
            previous = None if busy else signature
            await asyncio.sleep(POLL_S)


# ---- reading the state ---------------------------------------------------------------------


def read_ledger(path: Path) -> Ledger:
    """The provider's journal; a last line without its newline was never acknowledged: skipped."""
    ledger = Ledger([], [])
    if not path.exists():
        return ledger
    complete = path.read_bytes().rpartition(b"\n")[0]
    for number, line in enumerate(complete.split(b"\n") if complete else [], start=1):
        if not line.strip():
            continue
        try:
            entry = orjson.loads(line)
            kind, record = entry["kind"], entry["record"]
            if kind not in ("authorization", "refund"):
                raise ValueError(f"unknown kind {kind!r}")
            missing = [f for f in LEDGER_FIELDS[kind] if f not in record]
            if missing:
                raise ValueError(f"{kind} lacks {', '.join(missing)}")
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            ledger.unreadable.append(f"line {number} unreadable: {exc}")
            continue
        (ledger.authorizations if kind == "authorization" else ledger.refunds).append(record)
    return ledger


async def _read(state: dict[str, Any]) -> Snapshot:
    reader = reader_for(spec_of(state["architecture"]))
    async with Databases(state["databases"]) as dbs:
        return await reader.read(dbs, state["architecture"])


# ---- the check and its report --------------------------------------------------------------


def check_deployment(state: dict[str, Any], folder: Path, *, replay: bool = True,
                     quiescence: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check the five invariants on the live deployment `state` (its deployment.json) in `folder`.

    Call wait_quiescent first and pass its answer as `quiescence` to have it in the report; the
    replay (microservices) asks each event-sourced or projected service to rebuild from the log.
    """
    started = time.monotonic()
    snap = asyncio.run(_read(state))
    ledger = read_ledger(folder / LEDGER)
    replays: list[dict[str, Any]] | None = None
    if replay and snap.read_side is not None:
        try:
            replays = replay_deployment(folder)
        except HarnessError as exc:
            replays = [{"service": "replay", "error": f"could not run: {exc}"}]
    results = check_all(snap, ledger, replays)
    total = sum(len(r.violations) for r in results)
    return {
        "architecture": state["architecture"],
        "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "folder": folder.name,  # beside check.json in a run folder; never a path of this machine
        "ok": total == 0,
        "quiescence": quiescence if quiescence is not None else {"quiescent": None,
                                                                 "note": "not waited for"},
        "totals": {"bookings": len(snap.bookings), "by_status": status_counts(snap.bookings.values()),
                   "ledger_authorizations": len(ledger.authorizations),
                   "ledger_refunds": len(ledger.refunds), "violations": total},
        "invariants": [_entry(r) for r in results],
        "duration_s": round(time.monotonic() - started, 3),
    }


def _entry(result: Result) -> dict[str, Any]:
    return {"number": result.number, "name": result.name, "checked": result.checked,
            "violation_count": len(result.violations), "violations": result.violations[:MAX_LISTED],
            "more": max(0, len(result.violations) - MAX_LISTED), "note": result.note}
