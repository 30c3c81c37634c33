"""Where the audit's files live, and reading them back: light (no grimp, networkx or matplotlib),
so that a report of a run can show an audit without loading what made it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.config.architectures import find
from harness.config.errors import HarnessError

AUDIT_FILE = "audit.json"
DEPENDENCIES_PICTURE = "dependencies.png"


def load_audit(folder: Path) -> dict[str, Any] | None:
    """The audit in `folder`, None when there is none; a truncated file is an error."""
    path = folder / AUDIT_FILE
    if not path.exists():
        return None
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, json.JSONDecodeError) as exc:
        raise HarnessError(f"{path} is unreadable ({exc}); run the audit again") from None


def violations(audit: dict[str, Any]) -> list[str]:
    """What services must never have: an import of another service, shared tables, a table
    named outside the service's own database, another process connected to its database. Every
    registered architecture of the services kind is held to it."""
    found: list[str] = []
    for name, entry in audit["architectures"].items():
        spec = find(name)
        if spec is not None and spec.kind == "services":
            found += _violations(entry.get("static", {}))
    return found


def _violations(static: dict[str, Any]) -> list[str]:
    data = static.get("data")
    if not data:
        return []
    found = [f"{i['importer']} imports {i['imported']}"
             for i in static.get("imports", {}).get("cross_context_imports", [])]
    found += [f"shared table {s['table']} in database {s['database']} "
             f"({', '.join(s['users'])})" for s in data["shared_tables"]]
    found += [f"{c['deployable']} names table {c['table']} of database {c['database']}"
              for c in data["cross_database"]]
    found += [f"{', '.join(f['clients'])} connected to database {f['database']}"
              for f in data["foreign_clients"]]
    return found
