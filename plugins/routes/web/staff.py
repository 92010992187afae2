"""Staff redeem a visitor's reward code, once."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Response, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from promtour.plugin import PT, Conflict, pick_text, utcnow

from ..access import require_staff
from ..events import RouteRewardRedeemed
from ..records import (
    Passport,
    Reward,
    normalize_code,
)
from .common import (
    REDEEM_LIMIT,
    find_route,
    store_of,
)

__all__ = ["redeem", "redeem_form"]


class RedeemForm(msgspec.Struct):
    code: str


@get("/r/{route_id:str}/redeem", include_in_schema=False)
async def redeem_form(pt: PT, route_id: FromPath[str]) -> Response[Any]:
    route = await find_route(pt, route_id)
    await require_staff(pt, route)
    return pt.page(
        "routes/redeem.html", title=pt._("Redeem a reward"), route=route, result=None, error=""
    )


@post("/r/{route_id:str}/redeem", include_in_schema=False, status_code=200)
async def redeem(pt: PT, route_id: FromPath[str]) -> Response[Any]:
    """Mark a reward code as redeemed: once. Another route's code or a second
    redemption is refused and nothing is written."""
    route = await find_route(pt, route_id)
    who = await require_staff(pt, route)
    pt.limit(REDEEM_LIMIT)
    form = await pt.body(RedeemForm)
    store = store_of(pt)
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
