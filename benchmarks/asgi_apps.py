"""Trivial JSON endpoints on candidate ASGI stacks, served by benchmarks/asgi_stacks.py."""

from __future__ import annotations

from typing import Any


def starlette_orjson() -> Any:
    import orjson
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    async def hello(request: Any) -> Response:
        return Response(orjson.dumps({"status": "ok"}), media_type="application/json")

    return Starlette(routes=[Route("/hello", hello)])


def fastapi_default() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"status": "ok"}

    return app
