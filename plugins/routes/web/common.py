"""What the routes plugin's pages share: limits, ids and reading a route."""

from __future__ import annotations

from typing import Any

from litestar.exceptions import NotFoundException
from promtour.plugin import PT, RateLimit, pick_text

from ..records import (
    Route,
)

__all__ = [
    "CODE_DAYS",
    "ID_RE",
    "REDEEM_LIMIT",
    "RESTORE_LIMIT",
    "find_route",
    "store_of",
    "tour_names",
    "valid_id",
]

#: Days a passport code restores its passport (a new one can be shown any time).
CODE_DAYS = 30
RESTORE_LIMIT = RateLimit(name="routes_restore", per_visitor=10, per_address=60, window=600)
REDEEM_LIMIT = RateLimit(name="routes_redeem", per_visitor=60, per_address=120, window=60)
ID_RE = r"^[a-z0-9][a-z0-9-]{0,39}$"


def store_of(pt: PT) -> Any:
    return pt.enterprise("").store


async def find_route(pt: PT, route_id: str) -> Route:
    route = await store_of(pt).get(f"route.{route_id}", Route) if valid_id(route_id) else None
    if route is None:
        raise NotFoundException(pt._("There is no such route."))
    return route


def valid_id(value: str) -> bool:
    import re

    return bool(re.match(ID_RE, value))


async def tour_names(pt: PT, route: Route) -> list[dict[str, Any]]:
    """The route's accepted tours with their enterprise names, for the route page."""
    out = []
    for member in route.accepted():
        ectx = pt.enterprise(member.enterprise)
        enterprise = await ectx.enterprise()
        tour = await ectx.tour(member.tour)
        if tour is None:
            continue
        out.append(
            {
                "enterprise": member.enterprise,
                "enterprise_name": pick_text(
                    enterprise.name if enterprise else None, pt.lang, member.enterprise
                ),
                "tour": member.tour,
                "tour_name": pick_text(tour.tour.name, pt.lang, member.tour),
                "url": f"/t/{member.enterprise}/{member.tour}",
            }
        )
    return out
