"""The manifests of inventory, payment and notification say what their services really do: the
harness deploys, routes and audits from these files without importing the services."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from apps.booking.events import EVENT_TYPES

SERVICES = ("inventory", "payment", "notification")
ROOT = Path(__file__).resolve().parents[2]


def manifest(service: str) -> dict[str, Any]:
    return tomllib.loads((ROOT / "apps" / "microservices" / service / "manifest.toml").read_text())


def definition(service: str) -> Any:
    return importlib.import_module(f"apps.microservices.{service}.service").DEFINITION


@pytest.mark.parametrize("service", SERVICES)
def test_the_manifest_names_what_the_service_consumes(service: str) -> None:
    subscriptions = definition(service).subscriptions(SimpleNamespace(state={}))
    consumed = sorted(f"{s.producer}.events.{t}" for s in subscriptions for t in s.event_types)

    assert sorted(manifest(service)["consumes"]) == consumed
    assert set(definition(service).consumes_from) == {s.producer for s in subscriptions}
    # One durable consumer per producer: two subscriptions to one stream would share its name.
    assert len({s.producer for s in subscriptions}) == len(subscriptions)


@pytest.mark.parametrize("service", SERVICES)
def test_the_manifest_declares_a_stateful_single_replica_producer(service: str) -> None:
    declared = manifest(service)

    assert (declared["name"], declared["database"]) == (service, service)
    assert definition(service).name == service and definition(service).produces
    assert declared["stateful"] is True and declared["replicas_safe"] is False
    assert declared["routes"] == []
    assert {"outbox", "inbox"} <= set(declared["tables"])
    assert all(f"{table}:" in declared["tables_justification"] for table in declared["tables"])


@pytest.mark.parametrize("service", SERVICES)
def test_the_manifest_emits_only_known_events_on_the_services_own_subjects(service: str) -> None:
    for emitted in manifest(service)["emits"]:
        producer, _, event_type = emitted.split(".", 2)
        assert producer == service
        assert event_type in EVENT_TYPES
