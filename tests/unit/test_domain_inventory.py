"""The inventory contract (tests/inventory_contract.py) on the in-memory twin of the shared SQL."""

import pytest

from apps.booking.inventory import Inventory
from tests.support.inventory_contract import CATALOG, InventoryContract


class TestInMemoryInventory(InventoryContract):
    @pytest.fixture
    def inventory(self) -> Inventory:
        return Inventory.from_catalog(CATALOG)
