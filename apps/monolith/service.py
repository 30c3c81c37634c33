"""The monolith's command handlers: book, cancel, and finishing what a crash left half done.

Booking is two short transactions around the payment call, never one long one: the first holds
the rooms and records the booking as pending (with the card token, so a restarted process can
re-drive it), the second applies the provider's answer. The provider is idempotent by booking id,
so re-driving after a crash can never charge twice.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import asyncpg

from apps.booking.catalog import Catalog
from apps.booking.commands import CreateBooking
from apps.booking.lifecycle import Booking, BookingStatus, RejectionReason
from apps.contract.errors import IdempotencyConflict, NotFound
from apps.monolith import bookings, inventory, notifications, payments
from apps.payment_provider.client import PaymentClient, PaymentProviderError
from apps.platform.bookings import claim_idempotency_key
from apps.platform.retry import retrying

log = logging.getLogger(__name__)
T = TypeVar("T")
_RECOVERY_LOCK = 0x6172_6368  # "arch": one worker at a time re-drives unfinished work


def _now() -> datetime:
    return datetime.now(UTC)


class BookingService:
    def __init__(self, pool: asyncpg.Pool, catalog: Catalog, provider: PaymentClient) -> None:
        self.pool = pool
        self.catalog = catalog
        self.provider = provider

    async def create(self, command: CreateBooking, idempotency_key: str | None) -> Booking:
        booking_id = str(uuid.uuid4())
        fingerprint = command.fingerprint()

        async def hold_and_record(conn: asyncpg.Connection) -> Booking | str:
            if idempotency_key is not None:
                other = await claim_idempotency_key(
                    conn, idempotency_key, fingerprint, booking_id
                )
                if other is not None:
                    if other[0] != fingerprint:
                        raise IdempotencyConflict(
                            "Idempotency-Key: already used with a different request body"
                        )
                    return other[1]
            room_type = self.catalog.room_type(command.room_type_id)
            assert room_type is not None  # the command was validated against the catalog
            booking = Booking.pending(booking_id, command, room_type, _now())
            held = await inventory.hold(conn, booking)
            if not held:
                booking = booking.reject(RejectionReason.SOLD_OUT, booking.created_at)
            await bookings.insert(conn, booking)
            if held:
                await payments.record_intent(conn, booking_id, command.card_token,
                                             booking.amount_cents)
            else:
                await notifications.notify(conn, booking)
            return booking

        outcome = await self._in_transaction(hold_and_record)
        if isinstance(outcome, str):
            return await self.get(outcome)
        if outcome.status is BookingStatus.PENDING:
            return await self.settle(outcome, command.card_token)
        return outcome

    async def settle(self, booking: Booking, card_token: str) -> Booking:
        """Authorize outside any transaction, then apply the answer if nobody else has."""
        try:
            auth = await self.provider.authorize(
                idempotency_key=booking.booking_id, booking_id=booking.booking_id,
                amount_cents=booking.amount_cents, card_token=card_token,
            )
        except PaymentProviderError as exc:
            log.warning("payment provider unavailable for %s: %s", booking.booking_id, exc)
            return booking

        async def apply(conn: asyncpg.Connection) -> Booking:
            rejection = None if auth.approved else RejectionReason.PAYMENT_DECLINED
            after = booking.settle(rejection, _now())
            # The conditional update makes the first outcome win when the request and the
            # recovery race to settle the same booking; the loser changes nothing.
            if after is not None and await bookings.transition(conn, booking, after):
                if auth.approved:
                    await payments.mark_authorized(conn, booking.booking_id, auth.authorization_id)
                else:
                    await inventory.release(conn, booking)
                    await payments.mark_declined(conn, booking.booking_id, auth.authorization_id)
                await notifications.notify(conn, after)
                return after
            current = await bookings.get(conn, booking.booking_id)
            assert current is not None
            return current

        return await self._in_transaction(apply)

    async def cancel(self, booking_id: str) -> Booking:
        async def cancel_and_release(conn: asyncpg.Connection) -> Booking:
            booking = await bookings.get(conn, booking_id, for_update=True)
            if booking is None:
                raise NotFound(f"booking {booking_id} not found")
            after = booking.cancel(_now())
            await bookings.transition(conn, booking, after)
            await inventory.release(conn, booking)
            await payments.owe_refund(conn, booking_id)
            await notifications.notify(conn, after)
            return after

        cancelled = await self._in_transaction(cancel_and_release)
        await self._refund(booking_id)
        return cancelled

    async def get(self, booking_id: str) -> Booking:
        async with self.pool.acquire() as conn:
            booking = await bookings.get(conn, booking_id)
        if booking is None:
            raise NotFound(f"booking {booking_id} not found")
        return booking

    async def for_customer(self, customer_id: str) -> list[Booking]:
        async with self.pool.acquire() as conn:
            return await bookings.for_customer(conn, customer_id)

    async def recover_once(self, older_than_s: float) -> int:
        """Finish pending bookings and owed refunds; returns how many were finished."""
        finished = 0
        async with self.pool.acquire() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", _RECOVERY_LOCK):
                return 0
            try:
                for booking in await bookings.pending(conn, older_than_s):
                    try:  # one stuck booking must not hold up the ones behind it
                        token = await payments.card_token(conn, booking.booking_id)
                        settled = await self.settle(booking, token)
                    except Exception:
                        log.exception("recovery of booking %s failed", booking.booking_id)
                        continue
                    if settled.status is not BookingStatus.PENDING:
                        finished += 1
                for row in await payments.refunds_owed(conn):
                    try:
                        if await self._refund(row["booking_id"]):
                            finished += 1
                    except Exception:
                        log.exception("recovery of the refund of %s failed", row["booking_id"])
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", _RECOVERY_LOCK)
        return finished

    async def run_recovery(self, interval_s: float, grace_s: float) -> None:
        """Forever: at start everything unfinished, then anything older than the grace period."""
        older_than = 0.0
        while True:
            try:
                finished = await self.recover_once(older_than)
                if finished:
                    log.info("recovery finished %d bookings or refunds", finished)
            except Exception:
                log.exception("recovery pass failed; will retry")
            older_than = grace_s
            await asyncio.sleep(interval_s)

    async def _refund(self, booking_id: str) -> bool:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT authorization_id, amount_cents FROM payments "
                "WHERE booking_id = $1 AND refund_status = 'pending'", booking_id,
            )
            if row is None:
                return False
            try:
                refund = await self.provider.refund(
                    idempotency_key=f"refund:{booking_id}",
                    authorization_id=row["authorization_id"], amount_cents=row["amount_cents"],
                )
            except PaymentProviderError as exc:
                log.warning("refund of %s postponed: %s", booking_id, exc)
                return False
            await payments.mark_refunded(conn, booking_id, refund.refund_id)
        return True

    async def _in_transaction(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        async def attempt() -> T:
            async with self.pool.acquire() as conn, conn.transaction():
                return await work(conn)

        return await retrying(attempt)
