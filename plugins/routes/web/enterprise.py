"""An enterprise admin accepts, declines or leaves the routes proposed to its tours."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Response, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from promtour.plugin import PT, utcnow

from ..records import (
    Member,
    Route,
)
from .common import (
    find_route,
    store_of,
)

__all__ = ["decide", "enterprise_page"]


@get("/e/{enterprise:str}", include_in_schema=False)
async def enterprise_page(pt: PT, enterprise: FromPath[str]) -> Response[Any]:
    """The routes the enterprise's tours were proposed to, with what the admin decided."""
    await pt.require_role(enterprise, "admin")
    store = store_of(pt)
    rows = []
    for key in await store.keys("idx." + enterprise + "."):
        tour_id = key.removeprefix(f"idx.{enterprise}.")
        for route_id in await store.get(key, list[str]) or []:
            route = await store.get(f"route.{route_id}", Route)
            member = route.member(enterprise, tour_id) if route else None
            if route is None or member is None:
                continue
            # Only this enterprise's part of the route: no other member is shown.
            rows.append({"route": route, "tour": tour_id, "status": member.status})
    data = [
        {
            "route": r["route"].id,
            "title": r["route"].title,
            "tour": r["tour"],
            "status": r["status"],
        }
        for r in rows
    ]
    return pt.answer(
        data, "routes/enterprise.html", title=pt._("Routes"), rows=rows, enterprise=enterprise
    )


@post(
    "/e/{enterprise:str}/{route_id:str}/{tour_id:str}/{action:str}",
    include_in_schema=False,
    status_code=200,
)
async def decide(
    pt: PT,
    enterprise: FromPath[str],
    route_id: FromPath[str],
    tour_id: FromPath[str],
    action: FromPath[str],
) -> Response[Any]:
    """Accept or decline a proposal, or leave a route (past stamps stay)."""
    await pt.require_role(enterprise, "admin")
    statuses = {"accept": "accepted", "decline": "declined", "leave": "left"}
    if action not in statuses:
        raise NotFoundException(pt._("There is no such action."))
    route = await find_route(pt, route_id)
    member = route.member(enterprise, tour_id)
    if member is None:
        raise NotFoundException(pt._("This tour was not proposed to this route."))
    new: Any = statuses[action]
    allowed = {
        "accept": ("proposed", "left", "declined"),
        "decline": ("proposed",),
        "leave": ("accepted",),
    }
    if member.status not in allowed[action]:
        raise HTTPException(
            status_code=409,
            detail=pt._("This cannot be done now: the tour is %(status)s.")
            % {"status": member.status},
        )
    ectx = pt.enterprise(enterprise)
    store = store_of(pt)
    if new == "accepted":
        # The plugin's consumer gets the events of the tours it is enabled for.
        await ectx.set_enabled(tour_id, True)

    def change(current: Route | None) -> Route:
        if current is None:
            raise NotFoundException(pt._("There is no such route."))
        members = [
            Member(enterprise=m.enterprise, tour=m.tour, status=new, changed=utcnow())
            if m.enterprise == enterprise and m.tour == tour_id
            else m
            for m in current.members
        ]
        return msgspec.structs.replace(current, members=members)

    await store.update(f"route.{route_id}", Route, change)
    if new == "left":
        others = [
            r
            for r in await _routes_of(store, enterprise, tour_id)
            if r.id != route_id and (m := r.member(enterprise, tour_id)) and m.status == "accepted"
        ]
        if not others:
            await ectx.set_enabled(tour_id, False)
    return pt.answer(
        {"route": route_id, "tour": tour_id, "status": new}, next=f"/p/routes/e/{enterprise}"
    )


async def _routes_of(store: Any, enterprise: str, tour: str) -> list[Route]:
    from .stamps import routes_of_tour

    return await routes_of_tour(store, enterprise, tour, fresh=True)
