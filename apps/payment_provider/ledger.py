"""The provider's ledger: every authorization and refund in creation order, its idempotency
memory, and an optional append-only JSON-lines journal that survives restarts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, Protocol

import orjson

Kind = Literal["authorization", "refund"]


class LedgerCorrupted(RuntimeError):
    """A journal line other than the last one cannot be read."""


@dataclass(frozen=True)
class Entry:
    kind: Kind
    fingerprint: str
    record: dict[str, Any]

    @property
    def idempotency_key(self) -> str:
        return str(self.record["idempotency_key"])

    def to_line(self) -> bytes:
        return (
            orjson.dumps(
                {"kind": self.kind, "fingerprint": self.fingerprint, "record": self.record}
            )
            + b"\n"
        )

    @classmethod
    def from_line(cls, line: bytes) -> Entry:
        data = orjson.loads(line)
        if data["kind"] not in ("authorization", "refund"):
            raise ValueError(f"unknown kind {data['kind']!r}")
        return cls(kind=data["kind"], fingerprint=data["fingerprint"], record=data["record"])


class Journal(Protocol):
    def append(self, entry: Entry) -> None: ...

    def close(self) -> None: ...


class JsonlJournal:
    """One JSON line per entry, flushed after each append: a killed process loses nothing it
    acknowledged (flushed to the OS, not fsynced: surviving power loss is out of scope)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: IO[bytes] | None = None

    def load(self) -> list[Entry]:
        """Read every complete entry. A last line without its newline is a write torn by a crash:
        it was never acknowledged, so it is ignored and cut off to keep appends line-aligned."""
        if not self._path.exists():
            return []
        raw = self._path.read_bytes()
        complete, _, torn = raw.rpartition(b"\n")
        entries: list[Entry] = []
        for number, line in enumerate(complete.split(b"\n") if complete else [], start=1):
            if not line.strip():
                continue
            try:
                entries.append(Entry.from_line(line))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
                raise LedgerCorrupted(f"{self._path}: line {number} unreadable: {error}") from None
        if torn:
            with self._path.open("r+b") as file:
                file.truncate(len(raw) - len(torn))
        return entries

    def append(self, entry: Entry) -> None:
        if self._file is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self._path.open("ab")
        self._file.write(entry.to_line())
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class Ledger:
    """In-memory ledger; with a journal, every new entry is written there before it counts."""

    def __init__(self, journal: Journal | None = None, entries: list[Entry] | None = None) -> None:
        self._journal = journal
        self._authorizations: list[dict[str, Any]] = []
        self._refunds: list[dict[str, Any]] = []
        self._by_key: dict[tuple[Kind, str], Entry] = {}
        self._authorization_by_id: dict[str, dict[str, Any]] = {}
        self._refunded_cents: dict[str, int] = {}
        for entry in entries or []:
            self._remember(entry)

    @classmethod
    def open(cls, path: Path | None) -> Ledger:
        if path is None:
            return cls()
        journal = JsonlJournal(path)
        return cls(journal, journal.load())

    def find(self, kind: Kind, idempotency_key: str) -> Entry | None:
        return self._by_key.get((kind, idempotency_key))

    def authorization(self, authorization_id: str) -> dict[str, Any] | None:
        return self._authorization_by_id.get(authorization_id)

    def refunded_cents(self, authorization_id: str) -> int:
        return self._refunded_cents.get(authorization_id, 0)

    def append(self, entry: Entry) -> None:
        if self._journal is not None:
            self._journal.append(entry)
        self._remember(entry)

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        return {"authorizations": list(self._authorizations), "refunds": list(self._refunds)}

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()

    def _remember(self, entry: Entry) -> None:
        self._by_key[(entry.kind, entry.idempotency_key)] = entry
        record = entry.record
        if entry.kind == "authorization":
            self._authorizations.append(record)
            self._authorization_by_id[record["authorization_id"]] = record
        else:
            self._refunds.append(record)
            auth_id = record["authorization_id"]
            self._refunded_cents[auth_id] = self.refunded_cents(auth_id) + record["amount_cents"]
