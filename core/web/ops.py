"""Operations endpoints: liveness, readiness and metrics."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get

__all__ = ["healthz", "metrics", "readyz"]


class Health(msgspec.Struct):
    status: str
    problems: list[str] = msgspec.field(default_factory=list)


@get("/healthz", tags=["operations"], summary="The process is alive")
async def healthz() -> Health:
    return Health(status="ok")


@get("/readyz", tags=["operations"], summary="NATS is connected, stream and buckets exist")
async def readyz(request: Request[Any, Any, Any]) -> Response[Health]:
    problems = await request.app.state.platform.bus.ready()
    if problems:
        return Response(Health(status="unavailable", problems=problems), status_code=503)
    return Response(Health(status="ok"))


@get("/metrics", media_type="text/plain; version=0.0.4", include_in_schema=False)
async def metrics(request: Request[Any, Any, Any]) -> str:
    return str(request.app.state.platform.metrics.render())
