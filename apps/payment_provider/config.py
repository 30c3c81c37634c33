"""The provider's configuration: one frozen value handed to the app factory."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from apps.payment_provider.latency import (
    DEFAULT_LATENCY_SPEC,
    LatencyDistribution,
    parse_latency_spec,
)


def _default_latency() -> LatencyDistribution:
    return parse_latency_spec(DEFAULT_LATENCY_SPEC)


@dataclass(frozen=True)
class ProviderConfig:
    host: str = "127.0.0.1"
    port: int = 8100
    latency: LatencyDistribution = field(default_factory=_default_latency)
    decline_rate: float = 0.0
    seed: int = 0
    ledger_path: Path | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.decline_rate <= 1.0:
            raise ValueError(f"decline_rate must be within [0, 1], got {self.decline_rate}")
