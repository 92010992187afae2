"""Litestar dependencies of the console pages and the enterprise API.

Every handler used to open with the same lines: take the request and the path's
``{enterprise}`` and ``{tour_id}``, build the :class:`~promtour._console.ui.Console`
or fetch the platform from ``app.state``, load the tour. Litestar injects them
instead (``Provide``), by parameter name:

- ``c``: the page request's :class:`Console` (pages only);
- ``platform``: the :class:`Platform` serving the request;
- ``at``: the tour the path names (:class:`TourAt`), for changes;
- ``tour_state``: that tour as stored now (404 if the enterprise has no such tour).

They are resolved after the enterprise guard, so a caller of another enterprise
still gets its 404 before anything is loaded.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from promtour._console import service
from promtour._console.apibase import platform_of
from promtour._console.ui import Console
from promtour._platform import Platform
from promtour._tours import TourState

__all__ = [
    "DEPENDENCIES",
    "ConsoleDep",
    "PlatformDep",
    "TourAt",
    "TourAtDep",
    "TourStateDep",
]


class TourAt(msgspec.Struct, frozen=True):
    """The tour a route's path names: ``…/{enterprise}/…/tours/{tour_id}``."""

    enterprise: str
    tour_id: str


#: A handler's parameter types: injected by name (``c``, ``platform``, ``at``,
#: ``tour_state``), marked as litestar asks (inferred dependencies end in litestar 3).
ConsoleDep = NamedDependency[Console]
PlatformDep = NamedDependency[Platform]
TourAtDep = NamedDependency[TourAt]
TourStateDep = NamedDependency[TourState]


def _platform(request: Request[Any, Any, Any]) -> Platform:
    return platform_of(request)


def _tour_at(enterprise: FromPath[str], tour_id: FromPath[str]) -> TourAt:
    return TourAt(enterprise=enterprise, tour_id=tour_id)


async def _tour_state(platform: PlatformDep, at: TourAtDep) -> TourState:
    return await service.load_tour(platform, at.enterprise, at.tour_id)


#: For ``Router(dependencies=...)``: each is built only for a handler that asks for it.
DEPENDENCIES: dict[str, Provide] = {
    "c": Provide(Console, sync_to_thread=False),
    "platform": Provide(_platform, sync_to_thread=False),
    "at": Provide(_tour_at, sync_to_thread=False),
    "tour_state": Provide(_tour_state),
}
