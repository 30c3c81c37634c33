"""The checker's reader for one app on one database (the monolith's tables)."""

from __future__ import annotations

from typing import Any

from harness.verify.invariants import Payment, Snapshot
from harness.verify.readers.common import BOOKING_COLUMNS, Databases, Http, State, booking, inventory

# "*": the one database, whatever the manifest calls it
TABLES = {"*": ("bookings", "payments", "inventory", "notifications")}
WAITED_FOR = ["no pending booking", "no refund owed"]


async def probe(dbs: Databases, state: State, http: Http) -> tuple[dict[str, Any], object]:
    row = await dbs.only().fetchrow(
        "SELECT (SELECT count(*) FROM bookings WHERE status = 'pending') AS pending_bookings, "
        "(SELECT count(*) FROM payments WHERE refund_status = 'pending') AS refunds_owed, "
        "(SELECT count(*) FROM bookings) AS bookings, (SELECT max(updated_at) FROM bookings) AS b, "
        "(SELECT max(updated_at) FROM payments) AS p, (SELECT count(*) FROM notifications) AS n"
    )
    return ({"pending_bookings": row["pending_bookings"], "refunds_owed": row["refunds_owed"]},
            tuple(row))


async def read(dbs: Databases, architecture: str) -> Snapshot:
    conn = dbs.only()
    bookings = {r["booking_id"]: booking(r)
                for r in await conn.fetch(f"SELECT {BOOKING_COLUMNS} FROM bookings")}
    payments = {
        r["booking_id"]: Payment(r["booking_id"], r["status"], r["amount_cents"],
                                 r["authorization_id"], r["refund_id"],
                                 r["refund_status"] == "pending")
        for r in await conn.fetch("SELECT booking_id, status, amount_cents, authorization_id, "
                                  "refund_id, refund_status FROM payments")
    }
    return Snapshot(architecture, bookings, await inventory(conn, "inventory"), payments)
