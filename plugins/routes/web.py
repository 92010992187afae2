"""The routes plugin's pages and API, mounted under ``/p/routes/``.

Visitors: ``r/<route>`` (the route and the visitor's passport), ``r/<route>/code``
(show a passport code), ``restore`` (a passport code restores the passport).
Enterprise admins: ``e/<enterprise>`` (proposals: accept, decline, leave).
Operators: ``o/<operator>/routes`` (create, list, propose a tour), ``o/<operator>/
dashboard`` (+ ``.csv``), ``operator/login``. Staff: ``r/<route>/redeem``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

import msgspec
from litestar import Response, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, FromQuery
from promtour.plugin import PT, Conflict, RateLimit, Text, pick_text, qr_svg, utcnow

from . import dashboard
from .access import COOKIE_PURPOSE, OPERATOR_COOKIE, require_operator, require_staff
from .events import RouteRewardRedeemed
from .records import (
    Member,
    Passport,
    Reward,
    Route,
    Tier,
    authenticate_operator,
    new_code,
    normalize_code,
    passport_id,
)

__all__ = ["ROUTES"]

#: Days a passport code restores its passport (a new one can be shown any time).
CODE_DAYS = 30
RESTORE_LIMIT = RateLimit(name="routes_restore", per_visitor=10, per_address=60, window=600)
REDEEM_LIMIT = RateLimit(name="routes_redeem", per_visitor=60, per_address=120, window=60)
ID_RE = r"^[a-z0-9][a-z0-9-]{0,39}$"


def _store(pt: PT) -> Any:
    return pt.enterprise("").store


async def _route(pt: PT, route_id: str) -> Route:
    route = await _store(pt).get(f"route.{route_id}", Route) if _valid_id(route_id) else None
    if route is None:
        raise NotFoundException(pt._("There is no such route."))
    return route


def _valid_id(value: str) -> bool:
    import re

    return bool(re.match(ID_RE, value))


async def _tour_names(pt: PT, route: Route) -> list[dict[str, Any]]:
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


# --- the visitor -------------------------------------------------------------------


@get("/r/{route_id:str}", include_in_schema=False)
async def route_page(pt: PT, route_id: FromPath[str]) -> Response[Any]:
    """The route, and this browser's passport on it."""
    route = await _route(pt, route_id)
    store = _store(pt)
    pid = await passport_id(store, pt.visitor)
    passport = await store.get(f"pp.{pid}", Passport) or Passport(id=pid)
    tours = await _tour_names(pt, route)
    stamped = {s.enterprise for s in passport.stamps_of(route.id)}
    have = len(stamped)
    # An enterprise that left keeps counting for the visitors who have its stamp.
    total = len(set(route.enterprises()) | stamped)
    tiers = sorted(route.tiers, key=lambda t: t.need)
    reached = {t.need: t for t in passport.tiers_of(route.id)}
    next_tier = next((t for t in tiers if t.need not in reached), None)
    code_qr = None
    if passport.code:
        code_qr = qr_svg(
            f"{pt.public_url}/p/routes/restore?code={passport.code}", None, passport.code, scale=5
        )
    data = {
        "route": route.id,
        "stamps": have,
        "of": total,
        "enterprises": sorted(stamped),
        "rewards": [
            {"need": t.need, "code": t.code, "redeemed": t.redeemed is not None}
            for t in reached.values()
        ],
    }
    return pt.answer(
        data,
        "routes/route.html",
        title=pick_text(route.title, pt.lang, route.id),
        route=route,
        tours=tours,
        stamped=stamped,
        have=have,
        total=total,
        tiers=tiers,
        reached=reached,
        next_tier=next_tier,
        passport=passport,
        code_qr=code_qr,
        in_season=route.in_season(utcnow().date()),
        ngettext=pt.ngettext,
    )


@post("/r/{route_id:str}/code", include_in_schema=False, status_code=303)
async def show_code(pt: PT, route_id: FromPath[str]) -> Response[Any]:
    """Make (or renew) the passport code of this browser's passport."""
    route = await _route(pt, route_id)
    store = _store(pt)
    pid = await passport_id(store, pt.visitor)
    passport = await store.get(f"pp.{pid}", Passport)
    if passport is None or not passport.stamps:
        raise HTTPException(
            status_code=409,
            detail=pt._("Your passport has no stamps yet: there is nothing to move."),
        )
    code = new_code()
    await store.create(f"code.{code}", pid, ttl=CODE_DAYS * 86400)

    def set_code(current: Passport | None) -> Passport:
        base = current or passport
        return msgspec.structs.replace(base, code=code)

    await store.update(f"pp.{pid}", Passport, set_code)
    return pt.redirect(f"/p/routes/r/{route.id}#passport")


class RestoreForm(msgspec.Struct):
    code: str
    next: str = ""


@get("/restore", include_in_schema=False)
async def restore_form(pt: PT, code: FromQuery[str] = "") -> Response[Any]:
    """The form to type a passport code (a QR of the code opens it filled in)."""
    return pt.page(
        "routes/restore.html", title=pt._("Restore a passport"), code=code[:20], error=""
    )


@post("/restore", include_in_schema=False, status_code=303)
async def restore(pt: PT) -> Response[Any]:
    """Link this browser to the passport of a code. Nothing is written on a bad code."""
    pt.limit(RESTORE_LIMIT)
    form = await pt.body(RestoreForm)
    store = _store(pt)
    code = normalize_code(form.code)
    pid = await store.get(f"code.{code}", str) if code else None
    if pid is None or (await store.get(f"pp.{pid}", Passport)) is None:
        message = pt._(
            "This passport code is unknown or has expired. "
            "Ask for a new one on the phone that has the passport."
        )
        if pt.wants_json:
            raise NotFoundException(message)
        return pt.page(
            "routes/restore.html",
            status=404,
            title=pt._("Restore a passport"),
            code=form.code[:20],
            error=message,
        )
    own = await passport_id(store, pt.visitor)
    if own != pid:
        mine = await store.get(f"pp.{own}", Passport)
        if mine is not None and mine.stamps:
            message = pt._(
                "This browser has stamps of its own already, so it cannot take another passport."
            )
            if pt.wants_json:
                raise HTTPException(status_code=409, detail=message)
            return pt.page(
                "routes/restore.html",
                status=409,
                title=pt._("Restore a passport"),
                code=form.code[:20],
                error=message,
            )
        await store.put(f"link.{pt.visitor}", pid)
    routes = sorted(
        {s.route for s in (await store.get(f"pp.{pid}", Passport) or Passport(id=pid)).stamps}
    )
    back = pt.safe_path(form.next, f"/p/routes/r/{routes[0]}#passport" if routes else "/")
    return pt.answer({"restored": True, "routes": routes}, next=back)


# --- staff: redeeming a reward -----------------------------------------------------


class RedeemForm(msgspec.Struct):
    code: str


@get("/r/{route_id:str}/redeem", include_in_schema=False)
async def redeem_form(pt: PT, route_id: FromPath[str]) -> Response[Any]:
    route = await _route(pt, route_id)
    await require_staff(pt, route)
    return pt.page(
        "routes/redeem.html", title=pt._("Redeem a reward"), route=route, result=None, error=""
    )


@post("/r/{route_id:str}/redeem", include_in_schema=False, status_code=200)
async def redeem(pt: PT, route_id: FromPath[str]) -> Response[Any]:
    """Mark a reward code as redeemed: once. Another route's code or a second
    redemption is refused and nothing is written."""
    route = await _route(pt, route_id)
    who = await require_staff(pt, route)
    pt.limit(REDEEM_LIMIT)
    form = await pt.body(RedeemForm)
    store = _store(pt)
    code = normalize_code(form.code)
    reward = await store.get(f"reward.{code}", Reward) if code else None

    def refuse(status: int, message: str) -> Response[Any]:
        if pt.wants_json:
            raise HTTPException(status_code=status, detail=message)
        return pt.page(
            "routes/redeem.html",
            status=status,
            title=pt._("Redeem a reward"),
            route=route,
            result=None,
            error=message,
        )

    if reward is None:
        return refuse(404, pt._("There is no reward with this code."))
    if reward.route != route.id:
        return refuse(400, pt._("This code is a reward of another route."))
    if reward.redeemed is not None:
        return refuse(409, pt._("This reward was redeemed already."))
    now = utcnow()
    current = await store.read(f"reward.{code}", Reward)
    if current.value is None or current.value.redeemed is not None:
        return refuse(409, pt._("This reward was redeemed already."))
    try:
        await store.replace(
            f"reward.{code}",
            msgspec.structs.replace(current.value, redeemed=now, redeemed_by=who),
            current.revision,
        )
    except Conflict:
        return refuse(409, pt._("This reward was redeemed already."))

    def mark(passport: Passport | None) -> Passport:
        assert passport is not None
        tiers = [
            msgspec.structs.replace(t, redeemed=now) if t.code == reward.code else t
            for t in passport.tiers
        ]
        return msgspec.structs.replace(passport, tiers=tiers)

    await store.update(f"pp.{reward.passport}", Passport, mark)
    await pt.enterprise(reward.enterprise).publish(
        RouteRewardRedeemed(
            enterprise=reward.enterprise,
            tour=reward.tour,
            route=route.id,
            need=reward.need,
            by=who.partition(":")[0],
        )
    )
    tier = next((t for t in route.tiers if t.need == reward.need), None)
    result = {
        "code": reward.code,
        "need": reward.need,
        "reward": pick_text(tier.reward if tier else None, pt.lang),
    }
    return pt.answer(
        result,
        "routes/redeem.html",
        title=pt._("Redeem a reward"),
        route=route,
        result=result,
        error="",
    )


# --- the enterprise admin ----------------------------------------------------------


@get("/e/{enterprise:str}", include_in_schema=False)
async def enterprise_page(pt: PT, enterprise: FromPath[str]) -> Response[Any]:
    """The routes the enterprise's tours were proposed to, with what the admin decided."""
    await pt.require_role(enterprise, "admin")
    store = _store(pt)
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
    route = await _route(pt, route_id)
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
    store = _store(pt)
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

    return await routes_of_tour(store, enterprise, tour)


# --- the operator ------------------------------------------------------------------


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
    routes = await operator_routes(_store(pt), operator)
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
    if not _valid_id(data.id):
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
    store = _store(pt)
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
    route = await _route(pt, route_id)
    if route.operator != operator:
        raise NotFoundException("No such object.")
    data = await pt.body(ProposeIn)
    if (
        not (_valid_id(data.enterprise) and _valid_id(data.tour))
        or await pt.enterprise(data.enterprise).tour(data.tour) is None
    ):
        raise HTTPException(status_code=400, detail="There is no such tour.")
    store = _store(pt)

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
    fresh = await _route(pt, route_id)
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
    report = await dashboard.build(_store(pt), operator)
    names = await dashboard.names(pt, _store(pt), operator)
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
    report = await dashboard.build(_store(pt), operator)
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
    token = await authenticate_operator(_store(pt), form.token.strip())
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


ROUTES = [
    route_page,
    show_code,
    restore_form,
    restore,
    redeem_form,
    redeem,
    enterprise_page,
    decide,
    list_routes,
    create_route,
    propose,
    dashboard_page,
    dashboard_csv,
    login_form,
    login,
]
