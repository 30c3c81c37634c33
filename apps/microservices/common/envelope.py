"""The event envelope every service publishes and consumes, and its subjects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from apps.booking.events import Event, event_from_payload, event_to_payload, event_type_name
from apps.booking.lifecycle import utc_millis


@dataclass(frozen=True, slots=True)
class Envelope:
    event_id: str
    type: str
    aggregate_id: str
    sequence: int
    occurred_at: datetime
    correlation_id: str
    causation_id: str | None
    payload: dict[str, Any]

    def to_bytes(self) -> bytes:
        return orjson.dumps({
            "event_id": self.event_id, "type": self.type, "aggregate_id": self.aggregate_id,
            "sequence": self.sequence, "occurred_at": self.occurred_at.isoformat(),
            "correlation_id": self.correlation_id, "causation_id": self.causation_id,
            "payload": self.payload,
        })

    @classmethod
    def from_bytes(cls, data: bytes) -> Envelope:
        raw = orjson.loads(data)
        return cls(
            event_id=raw["event_id"], type=raw["type"], aggregate_id=raw["aggregate_id"],
            sequence=raw["sequence"], occurred_at=datetime.fromisoformat(raw["occurred_at"]),
            correlation_id=raw["correlation_id"], causation_id=raw["causation_id"],
            payload=raw["payload"],
        )

    def event(self) -> Event:
        return event_from_payload(self.type, self.payload)


def subject(service: str, event_type: str) -> str:
    """`<service>.events.<Type>`, as DESIGN.md names them."""
    return f"{service}.events.{event_type}"


def stream_name(service: str) -> str:
    return service.upper()


def envelope_for(
    event: Event,
    *,
    aggregate_id: str,
    sequence: int = 0,
    cause: Envelope | None = None,
    occurred_at: datetime | None = None,
) -> Envelope:
    """Wrap `event`; the correlation id follows the chain, the cause is the event reacted to."""
    event_id = str(uuid.uuid4())
    return Envelope(
        event_id=event_id,
        type=event_type_name(event),
        aggregate_id=aggregate_id,
        sequence=sequence,
        occurred_at=utc_millis(occurred_at or datetime.now(UTC)),
        correlation_id=cause.correlation_id if cause else event_id,
        causation_id=cause.event_id if cause else None,
        payload=event_to_payload(event),
    )
