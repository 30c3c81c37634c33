"""The e2e fixtures: one deployment per registered architecture for the whole session, through
its gateway; the registry includes the extra one of architectures.toml (monolith-solo), handed
to the deployments' `archbench` processes only, so that the other e2e tests (runs, audits) see
the built-in architectures alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.config.architectures import ENV_VAR, ArchitectureSpec, registry
from tests.support.deployments import RunningUp, start_up

EXTRA = Path(__file__).with_name("architectures.toml")
REGISTERED = registry(str(EXTRA))
ARCHITECTURES = list(REGISTERED)
SMALL = Path(__file__).with_name("small.yaml")

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session", params=ARCHITECTURES)
def deployment(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[RunningUp]:
    folder = tmp_path_factory.mktemp(f"up-{request.param}")
    running = start_up(request.param, folder / "deployment", "--scenario", str(SMALL),
                       env={ENV_VAR: str(EXTRA)})
    yield running
    code, survivors = running.stop()
    assert survivors == [], f"processes survived archbench up: {survivors}"
    assert code == 0


@pytest.fixture(scope="session")
def api(deployment: RunningUp) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=deployment.base_url, timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def registered() -> dict[str, ArchitectureSpec]:
    """The registry the deployments were started with, the extra architecture included."""
    return REGISTERED
