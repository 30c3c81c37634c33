"""Schemathesis fuzzes every running app with the OpenAPI document it serves itself: no request,
valid or not, gets a 5xx or an answer its document does not describe (status code, content type,
headers, body schema), and every request the document forbids is refused with a 4xx.

The apps are the session's deployments, which the contract suite shares, so fuzzing must leave
nothing it counts: a generated room_type_id is never a seeded one, so every fuzzed POST /bookings
is refused with 422. The payment provider is the exception: fuzzing it records authorizations
for bookings that do not exist, which `archbench check` rightly counts as money violations, so it
is fuzzed in a process of its own, the same program the deployments run."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

from harness.config.architectures import ENV_VAR, registry
from harness.deploy.supervisor import Supervisor, free_port
from tests.support.deployments import ROOT, RunningUp

pytestmark = pytest.mark.e2e

# Requests per operation and generation mode: keeps the whole file near two minutes on two cores.
MAX_EXAMPLES = 100
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]
# Deterministic, and no example database (nothing written into the repository). A live server is
# slow for Hypothesis's taste and a document with few inputs filters a lot: neither is a defect.
FUZZ = settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
                suppress_health_check=list(HealthCheck))


def _endpoints(deployment: RunningUp) -> dict[str, str]:
    return json.loads((deployment.workdir / "deployment.json").read_text())["endpoints"]


def _routed_to(service: str) -> set[str]:
    """The contract routes the gateway sends to `service`, as "METHOD /path" (its manifest)."""
    manifest = ROOT / "apps" / "microservices" / service / "manifest.toml"
    return set(tomllib.loads(manifest.read_text())["routes"])


def _operations(app: str, base_url: str) -> list[schemathesis.APIOperation]:
    # An explicit default config: never a schemathesis.toml found above the working directory.
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", config=schemathesis.Config())
    if app == "query":
        # The query service serves the whole contract for the gateway (its manifest routes
        # GET /openapi.json to it); on its own port it answers the operations routed to it.
        routed = _routed_to("query")
        schema = schema.include(lambda ctx: ctx.operation.label in routed)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, f"{app} documents no operation"
    return operations


def _fuzz(operation: schemathesis.APIOperation, mode: GenerationMode) -> None:
    """One Hypothesis run over one operation. Not the pytest plugin: the documents are known only
    once the session's deployment is up, and its fixture-based loader (`from_fixture`) fails on
    pytest 9.2 (it reads `Function._nodeid`, gone from pytest's nodes)."""

    @FUZZ
    @given(case=operation.as_strategy(generation_mode=mode))
    def call_and_validate(case: schemathesis.Case) -> None:
        response = case.call_and_validate(checks=CHECKS, timeout=10)
        assert (case.method, case.path) != ("POST", "/bookings") or response.status_code >= 400, (
            f"a fuzzed booking was accepted and holds rooms the contract suite counts on: {case.body}"
        )

    try:
        call_and_validate()
    except Unsatisfiable:
        # Only a negative case can be impossible: every parameter accepts any value.
        if mode is GenerationMode.POSITIVE:
            raise


def _fuzz_every_operation(app: str, base_url: str, subtests: pytest.Subtests) -> None:
    for operation in _operations(app, base_url):
        for mode in GenerationMode:
            with subtests.test(app=app, operation=operation.label, mode=mode.value):
                _fuzz(operation, mode)


def test_every_app_answers_only_as_its_own_document_says(
    deployment: RunningUp, subtests: pytest.Subtests
) -> None:
    """Each app process of the deployment (its registered components) and its gateway, fuzzed on
    its own port with its own document."""
    endpoints = _endpoints(deployment)
    spec = registry(deployment.env.get(ENV_VAR))[deployment.architecture]
    for app in ("gateway", *spec.components):
        _fuzz_every_operation(app, endpoints[app], subtests)


def test_the_payment_provider_answers_only_as_its_document_says(
    tmp_path: Path, subtests: pytest.Subtests
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with Supervisor(tmp_path) as supervisor:
        supervisor.start(
            "payment_provider",
            [sys.executable, "-m", "apps.payment_provider", "--port", str(port),
             "--latency", "none", "--ledger", str(tmp_path / "ledger.jsonl")],
            cwd=ROOT, ports=(port,),
            health=lambda: httpx.get(f"{base_url}/health", timeout=1).status_code == 200,
        )
        _fuzz_every_operation("payment_provider", base_url, subtests)
