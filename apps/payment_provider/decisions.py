"""The approve/decline rule: deterministic from the seed and the booking id, never from hash()."""

from __future__ import annotations

import hashlib

DECLINED_CARD_TOKEN = "tok_decline"


def decline_draw(seed: int, booking_id: str) -> float:
    """A uniform number in [0, 1) that depends only on (seed, booking_id)."""
    digest = hashlib.sha256(f"{seed}\x00{booking_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_declined(*, seed: int, decline_rate: float, booking_id: str, card_token: str) -> bool:
    if card_token == DECLINED_CARD_TOKEN:
        return True
    return decline_draw(seed, booking_id) < decline_rate
