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


def grouped(found: list[tuple[str, dict[str, Any] | None]]) -> list[str]:
    """One line per distinct origin, naming everything that has it: 'live audit of the monolith
    and of the microservices: cached from run ...'."""
    by_text: dict[str, list[str]] = {}
    for what, origin in found:
        by_text.setdefault(origin_text(origin), []).append(what)
    lines = []
    for text, whats in by_text.items():
        first, *others = whats
        common = first.rpartition(" of ")[0]
        if others and common and all(w.startswith(common + " of ") for w in others):
            whats = [first, *(w.removeprefix(common + " ") for w in others)]
        named = ", ".join(whats[:-1]) + " and " + whats[-1] if len(whats) > 1 else whats[0]
        lines.append(f"{named}: {text}")
    return lines
