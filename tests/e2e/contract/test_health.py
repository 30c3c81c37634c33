"""GET /health: the gateway answers and says which architecture serves it."""

import httpx
import pytest

from harness.config.architectures import ArchitectureSpec

from .helpers import Deployment

pytestmark = pytest.mark.e2e


def test_health_is_ok_and_names_the_architecture_behind_the_gateway(
    api: httpx.Client, deployment: Deployment, registered: dict[str, ArchitectureSpec]
) -> None:
    response = api.get("/health")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    # the app's own name: an architecture registered on another's code answers as that app
    assert body["architecture"] == registered[deployment.architecture].app
