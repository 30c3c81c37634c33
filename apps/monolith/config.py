"""The monolith's settings, read from the environment (apps.platform.settings says how)."""

from __future__ import annotations

from dataclasses import dataclass

from apps.platform import settings


@dataclass(frozen=True)
class Settings:
    dsn: str
    payment_url: str
    pool_min: int = 2
    pool_max: int = 10
    payment_timeout_s: float = 10.0
    recovery_interval_s: float = 2.0
    recovery_grace_s: float = 5.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        return settings.from_env(cls, "monolith", env)
