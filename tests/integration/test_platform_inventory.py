"""The inventory contract (tests/inventory_contract.py) on the shared SQL both architectures run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.postgres import PostgresServer
from tests.integration.pg_inventory import SyncPostgresInventory
from tests.inventory_contract import SPEC, InventoryContract

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def database(postgres: PostgresServer) -> Iterator[SyncPostgresInventory]:
    backend = SyncPostgresInventory(postgres, SPEC)
    yield backend
    backend.close()


class TestPostgresInventory(InventoryContract):
    @pytest.fixture
    def inventory(self, database: SyncPostgresInventory) -> SyncPostgresInventory:
        return database.empty()
