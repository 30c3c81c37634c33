"""Where a result reused between runs came from (harness.pipeline.cache), in words: measured in
this run, cached from an earlier run at a revision, or left out and why."""

from __future__ import annotations

from typing import Any


def origin_text(origin: dict[str, Any] | None, measured: str = "measured in this run") -> str:
    """'measured in this run', 'cached from run X at revision Y (date)', 'not measured: why' (for
    want of a cached result) or 'not run: why' (the scenario says so)."""
    origin = origin or {}
    source = origin.get("source", "measured")
    if source == "cached":
        return (f"cached from run {origin.get('run')} at revision {origin.get('revision')} "
                f"({origin.get('measured_at')}), the code it depends on unchanged since")
    if source in ("not measured", "off"):
        reason = origin.get("reason")
        return ("not measured" if source == "not measured" else "not run") + (
            f": {reason}" if reason else "")
    return measured
