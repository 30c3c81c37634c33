"""The JSON-lines journal keeps every acknowledged record and shrugs off a torn last line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from apps.payment_provider.ledger import Entry, JsonlJournal, Ledger, LedgerCorrupted


def _authorization(n: int, amount: int = 1_000) -> Entry:
    return Entry(
        "authorization",
        f"fp{n}",
        {
            "authorization_id": f"auth_{n}",
            "idempotency_key": f"k{n}",
            "booking_id": f"b{n}",
            "amount_cents": amount,
            "status": "approved",
            "created_at": "2027-01-01T00:00:00.000000Z",
        },
    )


def _refund(n: int, auth: int, amount: int) -> Entry:
    return Entry(
        "refund",
        f"rfp{n}",
        {
            "refund_id": f"ref_{n}",
            "idempotency_key": f"r{n}",
            "authorization_id": f"auth_{auth}",
            "amount_cents": amount,
            "status": "refunded",
            "created_at": "2027-01-01T00:00:01.000000Z",
        },
    )


def _write(path: Path, *entries: Entry) -> None:
    ledger = Ledger.open(path)
    for entry in entries:
        ledger.append(entry)
    ledger.close()


def test_a_reopened_ledger_has_every_record_and_key(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    _write(path, _authorization(1), _authorization(2), _refund(1, auth=1, amount=400))
    ledger = Ledger.open(path)
    assert [a["authorization_id"] for a in ledger.snapshot()["authorizations"]] == [
        "auth_1",
        "auth_2",
    ]
    assert ledger.find("authorization", "k2") == _authorization(2)
    assert ledger.find("refund", "r1") == _refund(1, auth=1, amount=400)
    assert ledger.find("refund", "k1") is None
    assert ledger.refunded_cents("auth_1") == 400


def test_every_append_is_on_disk_before_close(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ledger = Ledger.open(path)
    ledger.append(_authorization(1))
    lines = path.read_bytes().splitlines()
    assert [orjson.loads(line)["record"]["authorization_id"] for line in lines] == ["auth_1"]
    ledger.close()


def test_a_torn_last_line_is_ignored_and_cut_off(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    _write(path, _authorization(1))
    torn = _authorization(2).to_line()[:-20]
    with path.open("ab") as file:
        file.write(torn)
    ledger = Ledger.open(path)
    assert len(ledger.snapshot()["authorizations"]) == 1
    ledger.append(_authorization(3))
    ledger.close()
    reopened = Ledger.open(path)
    assert [a["authorization_id"] for a in reopened.snapshot()["authorizations"]] == [
        "auth_1",
        "auth_3",
    ]


def test_a_corrupted_line_in_the_middle_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    path.write_bytes(_authorization(1).to_line() + b"garbage\n" + _authorization(2).to_line())
    with pytest.raises(LedgerCorrupted, match="line 2"):
        JsonlJournal(path).load()


def test_a_missing_file_is_an_empty_ledger_created_on_first_append(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "ledger.jsonl"
    ledger = Ledger.open(path)
    assert ledger.snapshot() == {"authorizations": [], "refunds": []}
    assert not path.exists()
    ledger.append(_authorization(1))
    ledger.close()
    assert path.exists()
