"""Operations endpoints: liveness, readiness and metrics."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get

__all__ = ["healthz", "metrics", "readyz"]


class Health(msgspec.Struct):
    status: str
    problems: list[str] = msgspec.field(default_factory=list)


@get("/healthz", tags=["operations"], summary="The process is alive; says if NATS is down")
async def healthz(request: Request[Any, Any, Any]) -> Health:
    """200 while the process runs (a liveness probe must not restart the web process
    for a NATS outage: a restart cannot fix it, and a process that starts while NATS is
    away exits after ``nats.connect_timeout``); but it says ``degraded`` and why, so that
    a person or a monitor reading it is not told all is well. ``/readyz`` answers 503."""
    if not request.app.state.platform.bus.connected:
        return Health(status="degraded", problems=["NATS is not connected"])
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
