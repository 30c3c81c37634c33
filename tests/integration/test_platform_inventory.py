"""The inventory contract (tests/inventory_contract.py) on the shared SQL both architectures run."""

from __future__ import annotations

import pytest

from tests.integration.pg_inventory import SyncPostgresInventory, inventory_database
from tests.support.inventory_contract import SPEC, InventoryContract

pytestmark = pytest.mark.integration
database = inventory_database(SPEC)


class TestPostgresInventory(InventoryContract):
    @pytest.fixture
    def inventory(self, database: SyncPostgresInventory) -> SyncPostgresInventory:
        return database.empty()
