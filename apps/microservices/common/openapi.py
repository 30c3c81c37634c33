"""A service's own OpenAPI document: its /health and the contract operations it serves itself."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apps.contract.openapi import openapi_document


def service_document(service: str, operations: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """`operations` are (METHOD, path) pairs of the contract, described as the contract does."""
    contract = openapi_document("microservices")
    health = {"type": "object", "required": ["status", "service"],
              "properties": {"status": {"const": "ok"}, "service": {"const": service}}}
    paths: dict[str, dict[str, Any]] = {"/health": {"get": {
        "operationId": "health",
        "responses": {"200": {"description": "ok",
                              "content": {"application/json": {"schema": health}}}},
    }}}
    for method, path in operations:
        paths.setdefault(path, {})[method.lower()] = contract["paths"][path][method.lower()]
    return {
        "openapi": contract["openapi"],
        "info": {"title": f"archbench {service} service (microservices)", "version": "1"},
        "paths": paths,
        "components": contract["components"],
    }
