"""Invariants 1, 2 and 4 of DESIGN.md on the shared inventory SQL against PostgreSQL: the rules of
tests/booking_workflow.py, so an overbooking bug in the SQL both architectures run fails here."""

from __future__ import annotations

import pytest
from hypothesis import settings

from tests.integration.pg_inventory import SyncPostgresInventory, inventory_database
from tests.support.booking_workflow import SPEC, BookingWorkflow

pytestmark = pytest.mark.integration
database = inventory_database(SPEC)


def test_random_booking_workflows_keep_the_invariants_in_postgres(
        database: SyncPostgresInventory) -> None:
    class PostgresWorkflow(BookingWorkflow):
        def fresh_inventory(self) -> SyncPostgresInventory:
            return database.empty()

    PostgresWorkflow.TestCase.settings = settings(max_examples=60, stateful_step_count=30,
                                                  deadline=None)
    PostgresWorkflow.TestCase("runTest").runTest()
