"""Invariants 1, 2 and 4 of DESIGN.md on the shared inventory SQL against PostgreSQL: the rules of
tests/booking_workflow.py, so an overbooking bug in the SQL both architectures run fails here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import settings

from harness.postgres import PostgresServer
from tests.booking_workflow import SPEC, BookingWorkflow
from tests.integration.pg_inventory import SyncPostgresInventory

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def database(postgres: PostgresServer) -> Iterator[SyncPostgresInventory]:
    backend = SyncPostgresInventory(postgres, SPEC)
    yield backend
    backend.close()


def test_random_booking_workflows_keep_the_invariants_in_postgres(
        database: SyncPostgresInventory) -> None:
    class PostgresWorkflow(BookingWorkflow):
        def fresh_inventory(self) -> SyncPostgresInventory:
            return database.empty()

    PostgresWorkflow.TestCase.settings = settings(max_examples=60, stateful_step_count=30,
                                                  deadline=None)
    PostgresWorkflow.TestCase("runTest").runTest()
