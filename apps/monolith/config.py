"""The monolith's settings: they enter here only, from the environment the harness sets.

Precedence (documented in README): scenario file < environment < command line; the harness and
`python -m apps.monolith serve` resolve the first and last into these variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


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
        env = dict(os.environ if env is None else env)
        missing = [k for k in ("ARCHBENCH_DSN", "ARCHBENCH_PAYMENT_URL") if not env.get(k)]
        if missing:
            raise SystemExit(f"monolith: set {', '.join(missing)}")
        return cls(
            dsn=env["ARCHBENCH_DSN"],
            payment_url=env["ARCHBENCH_PAYMENT_URL"],
            pool_min=int(env.get("ARCHBENCH_POOL_MIN", cls.pool_min)),
            pool_max=int(env.get("ARCHBENCH_POOL_MAX", cls.pool_max)),
            payment_timeout_s=float(env.get("ARCHBENCH_PAYMENT_TIMEOUT_S", cls.payment_timeout_s)),
            recovery_interval_s=float(
                env.get("ARCHBENCH_RECOVERY_INTERVAL_S", cls.recovery_interval_s)
            ),
            recovery_grace_s=float(env.get("ARCHBENCH_RECOVERY_GRACE_S", cls.recovery_grace_s)),
        )
