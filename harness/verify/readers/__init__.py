"""What the invariant checker reads from a deployment's databases: one reader per architecture kind.

Each reader module offers `TABLES` (database role → the tables its SQL reads, checked by a unit test
against the tables the architecture's manifests declare), `WAITED_FOR` (what quiescence means),
`probe` (what is still in flight) and `read` (the state as a Snapshot).
"""

from __future__ import annotations

from types import ModuleType

from harness.config.architectures import ArchitectureSpec
from harness.config.errors import HarnessError
from harness.verify.readers import services, single

READERS: dict[str, ModuleType] = {"single": single, "services": services}


def reader_for(spec: ArchitectureSpec) -> ModuleType:
    if spec.reader not in READERS:
        raise HarnessError(f"architecture {spec.name}: no checker reader {spec.reader!r}; "
                           f"known: {', '.join(READERS)}")
    return READERS[spec.reader]


def tables_read(spec: ArchitectureSpec) -> dict[str, tuple[str, ...]]:
    """database → the tables the architecture's reader reads there."""
    tables = reader_for(spec).TABLES
    if "*" in tables:  # a single-database reader: whichever database the manifest names
        (database,) = set(spec.databases().values())
        return {database: tables["*"]}
    return dict(tables)
