"""Pure parts of the query service: row comparison for replay, availability minimum, booking rows,
and the manifest agreeing with what the service really consumes, serves and creates."""

from __future__ import annotations

import re
import tomllib
from datetime import date

from starlette.routing import Route

from apps.booking.events import EVENT_TYPES
from apps.microservices.__main__ import manifest_path
from apps.microservices.common import storage
from apps.microservices.query import projections, service
from apps.microservices.query.replay import diff_rows
from apps.platform import catalog as reference


def _manifest() -> dict:
    with manifest_path("query").open("rb") as f:
        return tomllib.load(f)


def test_identical_tables_have_no_differences() -> None:
    rows = [{"booking_id": "b1", "status": "confirmed"}, {"booking_id": "b2", "status": "pending"}]

    assert diff_rows("booking_view", ("booking_id",), rows, list(reversed(rows))) == (2, [])


def test_a_changed_missing_or_extra_row_is_a_difference_named_by_its_key() -> None:
    live = [{"room_type_id": "r1", "night": date(2027, 1, 1), "held": 1},
            {"room_type_id": "r1", "night": date(2027, 1, 2), "held": 0},
            {"room_type_id": "r2", "night": date(2027, 1, 1), "held": 0}]
    rebuilt = [{"room_type_id": "r1", "night": date(2027, 1, 1), "held": 0},
               {"room_type_id": "r2", "night": date(2027, 1, 1), "held": 0},
               {"room_type_id": "r3", "night": date(2027, 1, 1), "held": 0}]

    compared, details = diff_rows("availability_view", ("room_type_id", "night"), live, rebuilt)

    assert compared == 4
    assert details == ["availability_view(r1, 2027-01-01)", "availability_view(r1, 2027-01-02)",
                       "availability_view(r3, 2027-01-01)"]


def test_query_consumes_every_event_type_and_projects_all_but_inventory_rejected() -> None:
    consumed = {t for types in projections.CONSUMED.values() for t in types}

    assert consumed == set(EVENT_TYPES)
    assert set(projections.PROJECTORS) == consumed - {"InventoryRejected"}


def test_the_manifest_declares_what_the_service_consumes_serves_and_creates() -> None:
    manifest = _manifest()
    routes = [f"GET {r.path}" for r in service.routes() if isinstance(r, Route)]
    ddl = storage.DDL + reference.DDL + projections.DDL
    created = re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", ddl)

    assert manifest["name"] == service.DEFINITION.name == "query"
    assert manifest["consumes"] == [f"{producer}.events.{t}"
                                    for producer, types in projections.CONSUMED.items()
                                    for t in types]
    assert manifest["emits"] == []
    assert manifest["routes"] == routes
    assert sorted(manifest["tables"]) == sorted(created)
    assert service.DEFINITION.consumes_from == ("booking", "inventory", "payment", "notification")
    assert not service.DEFINITION.produces and service.DEFINITION.needs_reference_data
