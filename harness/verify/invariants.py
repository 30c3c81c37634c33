"""The five invariants of DESIGN.md as pure rules over a snapshot of a deployment's state and the
payment provider's ledger; harness.verify.check reads both and reports what these rules find.

Over 400 lines on purpose: the five rules and the value types they share read best side by side,
and each rule is a short pure function (split by rule, a reader would jump between six files)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

NAMES = {
    1: "no overbooking",
    2: "conservation",
    3: "terminal status",
    4: "money",
    5: "read side equals write side",
}
TERMINAL = frozenset({"confirmed", "rejected", "cancelled"})
HOLDING = frozenset({"pending", "confirmed"})
SHOWN_IDS = 5  # booking ids named in one violation's text; the violation's ids carry them all

Violation = dict[str, Any]  # ids (booking_id, room_type_id, night, ...) and a `detail` sentence
Night = tuple[str, date]  # (room type, night)


@dataclass(frozen=True)
class Booking:
    booking_id: str
    customer_id: str
    hotel_id: str
    room_type_id: str
    check_in: date
    nights: int
    units: int
    amount_cents: int
    status: str
    reason: str | None

    def stay(self) -> tuple[str, date, int, int]:
        return (self.room_type_id, self.check_in, self.nights, self.units)

    def nights_held(self) -> list[Night]:
        return [(self.room_type_id, self.check_in + timedelta(days=i)) for i in range(self.nights)]

    def outcome(self) -> str:
        return f"{self.status} ({self.reason})" if self.reason else self.status


@dataclass(frozen=True)
class Payment:
    """What the app itself recorded about a booking's payment (status: pending, authorized, declined)."""

    booking_id: str
    status: str
    amount_cents: int
    authorization_id: str | None
    refund_id: str | None
    refund_pending: bool = False


@dataclass(frozen=True)
class Reservation:
    booking_id: str
    room_type_id: str
    check_in: date
    nights: int
    units: int
    status: str  # held, rejected, released

    def stay(self) -> tuple[str, date, int, int]:
        return (self.room_type_id, self.check_in, self.nights, self.units)


@dataclass
class ReadSide:
    """The query service's read models, keyed as the write side is."""

    bookings: dict[str, Booking]
    availability: dict[Night, tuple[int, int]]
    payments: dict[str, dict[str, Any]]


@dataclass
class Snapshot:
    architecture: str
    bookings: dict[str, Booking]
    inventory: dict[Night, tuple[int, int]]  # capacity, held
    payments: dict[str, Payment]
    reservations: dict[str, Reservation] | None = None  # microservices: inventory's own record
    confirmed_with: dict[str, str] = field(default_factory=dict)  # booking -> authorization id
    read_side: ReadSide | None = None  # microservices only: the monolith reads its own tables


@dataclass
class Ledger:
    authorizations: list[dict[str, Any]]
    refunds: list[dict[str, Any]]
    unreadable: list[str] = field(default_factory=list)


@dataclass
class Result:
    number: int
    checked: dict[str, int]
    violations: list[Violation]
    note: str = ""

    @property
    def name(self) -> str:
        return NAMES[self.number]


def _ids(booking_ids: Iterable[str]) -> str:
    ids = sorted(booking_ids)
    shown = ", ".join(ids[:SHOWN_IDS])
    return shown + (f", … {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else "")


def _where(night: Night) -> str:
    return f"room_type {night[0]} night {night[1].isoformat()}"


def _held_by_bookings(bookings: dict[str, Booking]) -> dict[Night, list[Booking]]:
    holding: dict[Night, list[Booking]] = defaultdict(list)
    for booking in bookings.values():
        if booking.status in HOLDING:
            for night in booking.nights_held():
                holding[night].append(booking)
    return holding


def no_overbooking(snap: Snapshot) -> Result:
    """Units of pending + confirmed bookings, recomputed per night, and the stored holds, ≤ capacity."""
    holding = _held_by_bookings(snap.bookings)
    violations: list[Violation] = []
    for night in sorted(holding.keys() | snap.inventory.keys()):
        capacity, held = snap.inventory.get(night, (None, None))
        if capacity is None:
            continue  # a night without an inventory row is conservation's finding
        held_by = holding.get(night, [])
        units = sum(b.units for b in held_by)
        ids = [b.booking_id for b in held_by]
        base = {"room_type_id": night[0], "night": night[1].isoformat()}
        if units > capacity:
            violations.append({**base, "booking_ids": sorted(ids), "detail":
                               f"{_where(night)} holds {units} > capacity {capacity} "
                               f"(bookings {_ids(ids)})"})
        if held is not None and held > capacity:
            violations.append({**base, "detail": f"{_where(night)}: inventory holds {held} > "
                                                 f"capacity {capacity}"})
    return Result(1, {"room_type_nights": len(snap.inventory),
                      "holding_bookings": sum(b.status in HOLDING for b in snap.bookings.values())},
                  violations)


def conservation(snap: Snapshot) -> Result:
    """Stored holds equal the units of pending + confirmed bookings, night by night, exactly;
    in the microservices the inventory's reservations also agree with each booking's outcome."""
    holding = _held_by_bookings(snap.bookings)
    violations: list[Violation] = []
    for night in sorted(holding.keys() | snap.inventory.keys()):
        held_by = holding.get(night, [])
        units = sum(b.units for b in held_by)
        ids = sorted(b.booking_id for b in held_by)
        base = {"room_type_id": night[0], "night": night[1].isoformat(), "booking_ids": ids}
        if night not in snap.inventory:
            violations.append({**base, "detail": f"{_where(night)} has no inventory row, yet "
                                                 f"bookings {_ids(ids)} hold {units}"})
            continue
        held = snap.inventory[night][1]
        if held != units:
            by = f" (bookings {_ids(ids)})" if ids else ""
            violations.append({**base, "detail": f"{_where(night)}: inventory holds {held}, "
                                                 f"pending + confirmed bookings {units}{by}"})
    checked = {"room_type_nights": len(snap.inventory)}
    if snap.reservations is not None:
        violations += _reservations_agree(snap.bookings, snap.reservations)
        checked["reservations"] = len(snap.reservations)
    return Result(2, checked, violations)


def _expected_reservation(booking: Booking) -> set[str]:
    if booking.status == "pending":
        return {"held", "rejected", "released", "absent"}  # in flight: any step may be next
    if booking.status == "confirmed":
        return {"held"}
    if booking.status == "rejected" and booking.reason == "sold_out":
        return {"rejected"}
    return {"released"}  # cancelled, or rejected for a declined payment


def _reservations_agree(bookings: dict[str, Booking],
                        reservations: dict[str, Reservation]) -> list[Violation]:
    violations: list[Violation] = []
    for booking_id in sorted(bookings.keys() | reservations.keys()):
        booking, reservation = bookings.get(booking_id), reservations.get(booking_id)
        if booking is None:
            assert reservation is not None
            violations.append({"booking_id": booking_id, "detail":
                               f"reservation of booking {booking_id} ({reservation.status}) "
                               "belongs to no booking of the booking service"})
            continue
        status = reservation.status if reservation else "absent"
        if status not in _expected_reservation(booking):
            violations.append({"booking_id": booking_id, "detail":
                               f"booking {booking_id} is {booking.outcome()} but its reservation "
                               f"is {status}"})
        elif reservation is not None and reservation.stay() != booking.stay():
            violations.append({"booking_id": booking_id, "detail":
                               f"booking {booking_id}: reservation {reservation.stay()} differs "
                               f"from the booked stay {booking.stay()}"})
    return violations


def terminal_status(snap: Snapshot) -> Result:
    violations = [
        {"booking_id": b.booking_id, "status": b.status,
         "detail": f"booking {b.booking_id} is {b.status}, not confirmed, rejected or cancelled"}
        for b in sorted(snap.bookings.values(), key=lambda b: b.booking_id)
        if b.status not in TERMINAL
    ]
    return Result(3, {"bookings": len(snap.bookings)}, violations)


def money(snap: Snapshot, ledger: Ledger) -> Result:
    """Each booking's authorizations and refunds in the provider's ledger fit its outcome, nothing is
    charged or refunded twice, every ledger line has its booking, and the app's records agree."""
    auths: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for auth in ledger.authorizations:
        auths[str(auth["booking_id"])].append(auth)
    auth_by_id = {str(a["authorization_id"]): a for a in ledger.authorizations}
    refunds: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for refund in ledger.refunds:
        refunds[str(refund["authorization_id"])].append(refund)

    violations: list[Violation] = [{"line": line, "detail": f"ledger {line}"}
                                   for line in ledger.unreadable]
    for booking in sorted(snap.bookings.values(), key=lambda b: b.booking_id):
        violations += _booking_money(booking, auths.get(booking.booking_id, []), refunds)
        if booking.status != "pending":
            violations += _records_agree(booking, snap.payments.get(booking.booking_id),
                                         auths.get(booking.booking_id, []), refunds,
                                         snap.confirmed_with.get(booking.booking_id))
    for auth in ledger.authorizations:
        if auth["booking_id"] not in snap.bookings:
            violations.append({"authorization_id": auth["authorization_id"],
                               "booking_id": auth["booking_id"], "detail":
                               f"ledger authorization {auth['authorization_id']} ({auth['status']}) "
                               f"is for booking {auth['booking_id']}, which does not exist"})
    for authorization_id, its_refunds in sorted(refunds.items()):
        ids = sorted(str(r["refund_id"]) for r in its_refunds)
        auth = auth_by_id.get(authorization_id)
        if auth is None:
            violations.append({"authorization_id": authorization_id, "refund_ids": ids, "detail":
                               f"ledger refunds {', '.join(ids)} refund authorization "
                               f"{authorization_id}, which is not in the ledger"})
            continue
        if len(its_refunds) > 1:
            violations.append({"authorization_id": authorization_id, "booking_id": auth["booking_id"],
                               "refund_ids": ids, "detail":
                               f"booking {auth['booking_id']}: authorization {authorization_id} "
                               f"refunded {len(ids)} times ({', '.join(ids)})"})
        for refund in its_refunds:
            if refund["amount_cents"] != auth["amount_cents"]:
                violations.append({"refund_id": refund["refund_id"], "booking_id": auth["booking_id"],
                                   "detail": f"booking {auth['booking_id']}: refund "
                                             f"{refund['refund_id']} of {refund['amount_cents']} "
                                             f"cents ≠ authorized {auth['amount_cents']}"})
    checked = {"bookings": len(snap.bookings), "authorizations": len(ledger.authorizations),
               "refunds": len(ledger.refunds), "payment_records": len(snap.payments)}
    return Result(4, checked, violations)


def _booking_money(booking: Booking, auths: list[dict[str, Any]],
                   refunds: dict[str, list[dict[str, Any]]]) -> list[Violation]:
    bid = booking.booking_id
    approved = [a for a in auths if a["status"] == "approved"]
    declined = [a for a in auths if a["status"] != "approved"]
    refunded = [r for a in approved for r in refunds.get(str(a["authorization_id"]), [])]
    ids = {"booking_id": bid, "authorization_ids": sorted(str(a["authorization_id"]) for a in auths)}
    found: list[str] = []
    if len(approved) > 1:
        found.append(f"{len(approved)} approved authorizations "
                     f"({', '.join(ids['authorization_ids'])}): charged more than once")
    for auth in approved:
        if auth["amount_cents"] != booking.amount_cents:
            found.append(f"authorization {auth['authorization_id']} of {auth['amount_cents']} cents "
                         f"≠ the booking's {booking.amount_cents}")
    if booking.status == "confirmed":
        if not approved:
            found.append("confirmed without an approved authorization")
        if refunded:
            found.append(f"confirmed but refunded ({', '.join(r['refund_id'] for r in refunded)})")
    elif booking.status == "cancelled":
        if not approved:
            found.append("cancelled without an approved authorization to refund")
        elif not refunded:
            found.append(f"cancelled but authorization {approved[0]['authorization_id']} "
                         "was never refunded")
    elif booking.status == "rejected" and booking.reason == "sold_out":
        if auths:
            found.append(f"rejected as sold out yet authorized ({', '.join(ids['authorization_ids'])})")
    elif booking.status == "rejected":
        if approved:
            found.append(f"rejected for a declined payment yet authorization "
                         f"{approved[0]['authorization_id']} was approved")
        elif not declined:
            found.append("rejected for a declined payment but the ledger holds no declined "
                         "authorization")
    return [{**ids, "detail": f"booking {bid} ({booking.outcome()}): {what}"} for what in found]


def _records_agree(booking: Booking, payment: Payment | None, auths: list[dict[str, Any]],
                   refunds: dict[str, list[dict[str, Any]]],
                   confirmed_with: str | None) -> list[Violation]:
    """The app's payment record names the ledger's authorization and refund, and nothing else."""
    bid = booking.booking_id
    found: list[str] = []
    approved = [a for a in auths if a["status"] == "approved"]
    known = {str(a["authorization_id"]): a for a in auths}
    if payment is not None and payment.authorization_id is not None:
        auth = known.get(payment.authorization_id)
        status = {"authorized": "approved"}.get(payment.status, payment.status)
        if auth is None:
            found.append(f"the app records authorization {payment.authorization_id}, which the "
                         "ledger does not hold for this booking")
        elif auth["status"] != status:
            found.append(f"the app records authorization {payment.authorization_id} as "
                         f"{payment.status}, the ledger as {auth['status']}")
    if approved and (payment is None or payment.authorization_id != approved[0]["authorization_id"]):
        found.append(f"the ledger's approved authorization {approved[0]['authorization_id']} is "
                     "missing from the app's payment records")
    if confirmed_with is not None and approved and confirmed_with != approved[0]["authorization_id"]:
        found.append(f"BookingConfirmed names authorization {confirmed_with}, the ledger "
                     f"{approved[0]['authorization_id']}")
    ledger_refunds = {str(r["refund_id"]) for a in approved
                      for r in refunds.get(str(a["authorization_id"]), [])}
    recorded = payment.refund_id if payment is not None else None
    if recorded is not None and recorded not in ledger_refunds:
        found.append(f"the app records refund {recorded}, which the ledger does not hold")
    for refund_id in sorted(ledger_refunds - {recorded}):
        found.append(f"the ledger's refund {refund_id} is missing from the app's payment records")
    return [{"booking_id": bid, "detail": f"booking {bid}: {what}"} for what in found]


def read_side(snap: Snapshot, replays: list[dict[str, Any]] | None) -> Result:
    """Microservices: each read model equals what the write side holds, and (with `replays`, from
    harness.verify.replay) rebuilding from the event log gives the live state back."""
    if snap.read_side is None:
        return Result(5, {"databases": 1}, [],
                      note="one database: the monolith reads the tables it writes; nothing to replay")
    view = snap.read_side
    violations = _booking_view(snap.bookings, view.bookings)
    violations += _availability_view(snap.inventory, view.availability)
    violations += _payment_view(snap.payments, view.payments)
    checked = {"booking_view": len(view.bookings), "availability_view": len(view.availability),
               "payment_view": len(view.payments)}
    note = "replay not run"
    if replays is not None:
        note = ""
        for replay in replays:
            service = replay["service"]
            checked[f"{service}_events_replayed"] = int(replay.get("events_replayed", 0))
            checked[f"{service}_rows_replayed"] = int(replay.get("rows_compared", 0))
            if replay.get("error") or replay.get("differences"):
                details = [str(d) for d in replay.get("details", [])]
                what = replay.get("error") or (f"{replay['differences']} differences between the "
                                               f"live state and the log's ({', '.join(details)})")
                violations.append({"service": service, "details": details,
                                   "detail": f"replay of {service}: {what}"})
    return Result(5, checked, violations, note=note)


_BOOKING_FIELDS = ("customer_id", "hotel_id", "room_type_id", "check_in", "nights", "units",
                   "amount_cents", "status", "reason")


def _booking_view(written: dict[str, Booking], viewed: dict[str, Booking]) -> list[Violation]:
    def fields(booking: Booking) -> dict[str, Any]:
        return {name: getattr(booking, name) for name in _BOOKING_FIELDS}

    return _view_rows("booking_view", "the event store", "events",
                      {k: fields(b) for k, b in written.items()},
                      {k: fields(b) for k, b in viewed.items()})


def _view_rows(view: str, source: str, short: str, written: dict[str, dict[str, Any]],
               viewed: dict[str, dict[str, Any]]) -> list[Violation]:
    """Per booking, the read model's row against what the write side says it must hold: a row on
    one side only, or any field of `written` that differs."""
    violations: list[Violation] = []
    for booking_id in sorted(written.keys() | viewed.keys()):
        w, v = written.get(booking_id), viewed.get(booking_id)
        if w is None or v is None:
            where = f"{view} only" if w is None else f"{source} only"
            violations.append({"booking_id": booking_id,
                               "detail": f"{view}: booking {booking_id} is in {where}"})
            continue
        differing = [f"{k} {v.get(k)} ≠ {want}" for k, want in w.items() if v.get(k) != want]
        if differing:
            violations.append({"booking_id": booking_id, "detail":
                               f"{view}: booking {booking_id} has {', '.join(differing)} "
                               f"(view ≠ {short})"})
    return violations


def _availability_view(inventory: dict[Night, tuple[int, int]],
                       viewed: dict[Night, tuple[int, int]]) -> list[Violation]:
    violations: list[Violation] = []
    for night in sorted(inventory.keys() | viewed.keys()):
        w, v = inventory.get(night), viewed.get(night)
        if w != v:
            violations.append({"room_type_id": night[0], "night": night[1].isoformat(), "detail":
                               f"availability_view: {_where(night)} (capacity, held) "
                               f"{v or 'no row'} ≠ inventory {w or 'no row'}"})
    return violations


def _payment_view(payments: dict[str, Payment], viewed: dict[str, dict[str, Any]]) -> list[Violation]:
    def expected(p: Payment) -> dict[str, Any]:
        row = {"status": "refunded" if p.refund_id else p.status, "amount_cents": p.amount_cents}
        if p.status != "declined":  # PaymentDeclined carries no authorization id
            row["authorization_id"] = p.authorization_id
        return row

    return _view_rows("payment_view", "the payment service", "payments",
                      {k: expected(p) for k, p in payments.items()}, viewed)


def check_all(snap: Snapshot, ledger: Ledger, replays: list[dict[str, Any]] | None) -> list[Result]:
    return [no_overbooking(snap), conservation(snap), terminal_status(snap), money(snap, ledger),
            read_side(snap, replays)]


def status_counts(bookings: Iterable[Booking]) -> dict[str, int]:
    """Bookings per outcome: `confirmed`, `rejected:sold_out`, ..."""
    return dict(sorted(Counter(f"{b.status}:{b.reason}" if b.reason else b.status
                               for b in bookings).items()))
