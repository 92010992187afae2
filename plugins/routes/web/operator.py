"""A route operator: sign-in, its routes, proposing tours, the dashboard and its CSV."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

import msgspec
from litestar import Response, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from promtour.plugin import PT, Text

from .. import dashboard
from ..access import COOKIE_PURPOSE, OPERATOR_COOKIE, require_operator
from ..records import (
    Member,
    Route,
    Tier,
    authenticate_operator,
)
from .common import (
    RESTORE_LIMIT,
    find_route,
    store_of,
    valid_id,
)

__all__ = [
    "create_route",
    "dashboard_csv",
    "dashboard_page",
    "list_routes",
    "login",
    "login_form",
    "propose",
]


class RouteIn(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    title: Text
    season_from: date
    season_to: date
    description: Text = msgspec.field(default_factory=dict)
    regions: list[str] = msgspec.field(default_factory=list)
    stamp: Literal["check_in", "finish"] = "check_in"
    tiers: list[Tier] = msgspec.field(default_factory=list)


@get("/o/{operator:str}/routes", include_in_schema=False)
async def list_routes(pt: PT, operator: FromPath[str]) -> Response[Any]:
    await require_operator(pt, operator)
    routes = await operator_routes(store_of(pt), operator)
    return pt.finish(Response(msgspec.to_builtins(routes)))


async def operator_routes(store: Any, operator: str) -> list[Route]:
    ids = await store.get(f"opr.{operator}", list[str]) or []
    routes = [await store.get(f"route.{r}", Route) for r in ids]
    return [r for r in routes if r is not None]


@post("/o/{operator:str}/routes", include_in_schema=False, status_code=201)
async def create_route(pt: PT, operator: FromPath[str]) -> Response[Any]:
    await require_operator(pt, operator)
    data = await pt.body(RouteIn)
    problems = []
    if not valid_id(data.id):
        problems.append("id: lower-case letters, digits and dashes")
    if data.season_to < data.season_from:
        problems.append("season_to is before season_from")
    if any(t.need < 1 for t in data.tiers):
        problems.append("tiers: need is at least 1")
    if not data.title:
        problems.append("title: at least one language")
    if problems:
        raise HTTPException(status_code=400, detail="; ".join(problems))
    route = Route(operator=operator, members=[], **msgspec.structs.asdict(data))
    store = store_of(pt)
    if not await store.create(f"route.{route.id}", route):
        raise HTTPException(status_code=409, detail=f"route {route.id!r} exists")
    await store.update(f"opr.{operator}", list[str], lambda ids: sorted({*(ids or []), route.id}))
    return pt.finish(Response(msgspec.to_builtins(route), status_code=201))


class ProposeIn(msgspec.Struct):
    enterprise: str
    tour: str


@post("/o/{operator:str}/routes/{route_id:str}/tours", include_in_schema=False, status_code=201)
async def propose(pt: PT, operator: FromPath[str], route_id: FromPath[str]) -> Response[Any]:
    """Propose an enterprise's tour for a route; its admin accepts or declines."""
    await require_operator(pt, operator)
    route = await find_route(pt, route_id)
    if route.operator != operator:
        raise NotFoundException("No such object.")
    data = await pt.body(ProposeIn)
    if (
        not (valid_id(data.enterprise) and valid_id(data.tour))
        or await pt.enterprise(data.enterprise).tour(data.tour) is None
    ):
        raise HTTPException(status_code=400, detail="There is no such tour.")
    store = store_of(pt)

    def add(current: Route | None) -> Route:
        assert current is not None
        if current.member(data.enterprise, data.tour) is not None:
            return current
        return msgspec.structs.replace(
            current, members=[*current.members, Member(enterprise=data.enterprise, tour=data.tour)]
        )

    await store.update(f"route.{route_id}", Route, add)
    await store.update(
        f"idx.{data.enterprise}.{data.tour}",
        list[str],
        lambda ids: sorted({*(ids or []), route_id}),
    )
    # Only the proposal's own status: the operator learns nothing else of the enterprise.
    fresh = await find_route(pt, route_id)
    member = fresh.member(data.enterprise, data.tour)
    return pt.finish(
        Response(
            {
                "route": route_id,
                "enterprise": data.enterprise,
                "tour": data.tour,
                "status": member.status if member else "proposed",
            },
            status_code=201,
        )
    )


@get("/o/{operator:str}/dashboard", include_in_schema=False)
async def dashboard_page(pt: PT, operator: FromPath[str]) -> Response[Any]:
    await require_operator(pt, operator)
    report = await dashboard.build(store_of(pt), operator)
    names = await dashboard.names(pt, store_of(pt), operator)
    return pt.answer(
        dashboard.masked(report),
        "routes/dashboard.html",
        title=pt._("Routes dashboard"),
        report=report,
        names=names,
        operator=operator,
        mask=dashboard.mask,
        ngettext=pt.ngettext,
    )


@get("/o/{operator:str}/dashboard.csv", include_in_schema=False)
async def dashboard_csv(pt: PT, operator: FromPath[str]) -> Response[Any]:
    await require_operator(pt, operator)
    report = await dashboard.build(store_of(pt), operator)
    body = dashboard.to_csv(report)
    return pt.finish(
        Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="routes-{operator}.csv"'},
        )
    )


class LoginForm(msgspec.Struct):
    token: str


@get("/operator/login", include_in_schema=False)
async def login_form(pt: PT) -> Response[Any]:
    return pt.page("routes/login.html", title=pt._("Operator sign-in"), error="")


@post("/operator/login", include_in_schema=False, status_code=303)
async def login(pt: PT) -> Response[Any]:
    pt.limit(RESTORE_LIMIT)
    form = await pt.body(LoginForm)
    token = await authenticate_operator(store_of(pt), form.token.strip())
    if token is None:
        return pt.page(
            "routes/login.html",
            status=401,
            title=pt._("Operator sign-in"),
            error=pt._("This operator token is not valid."),
        )
    response = pt.redirect(f"/p/routes/o/{token.operator}/dashboard")
    response.set_cookie(
        OPERATOR_COOKIE,
        pt.sign(token.id, purpose=COOKIE_PURPOSE),
        max_age=int(timedelta(hours=12).total_seconds()),
        httponly=True,
        secure=pt.secure_cookies,
        samesite="strict",
        path="/p/routes/",
    )
    return response
