"""The visitor's pages: a route with this browser's passport, a passport code, restoring
a passport from its code."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Response, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromPath, FromQuery
from promtour.plugin import PT, pick_text, qr_svg, utcnow

from ..records import (
    Passport,
    find_passport,
    new_code,
    normalize_code,
)
from .common import (
    CODE_DAYS,
    RESTORE_LIMIT,
    find_route,
    store_of,
    tour_names,
)

__all__ = ["restore", "restore_form", "route_page", "show_code"]


@get("/r/{route_id:str}", include_in_schema=False)
async def route_page(pt: PT, route_id: FromPath[str]) -> Response[Any]:
    """The route, and this browser's passport on it."""
    route = await find_route(pt, route_id)
    store = store_of(pt)
    pid, found = await find_passport(store, pt.visitor)
    passport = found.value or Passport(id=pid)
    tours = await tour_names(pt, route)
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
    route = await find_route(pt, route_id)
    store = store_of(pt)
    pid, found = await find_passport(store, pt.visitor)
    passport = found.value
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
    return _restore_page(pt, code)


def _restore_page(pt: PT, code: str, error: str = "", status: int = 200) -> Response[Any]:
    """The restore form, typed code kept; with ``error``, the refusal (a JSON client
    gets the error alone)."""
    if error and pt.wants_json:
        raise HTTPException(status_code=status, detail=error)
    return pt.page(
        "routes/restore.html",
        status=status,
        title=pt._("Restore a passport"),
        code=code[:20],
        error=error,
    )


@post("/restore", include_in_schema=False, status_code=303)
async def restore(pt: PT) -> Response[Any]:
    """Link this browser to the passport of a code. Nothing is written on a bad code."""
    pt.limit(RESTORE_LIMIT)
    form = await pt.body(RestoreForm)
    store = store_of(pt)
    code = normalize_code(form.code)
    pid = await store.get(f"code.{code}", str) if code else None
    if pid is None or (await store.get(f"pp.{pid}", Passport)) is None:
        message = pt._(
            "This passport code is unknown or has expired. "
            "Ask for a new one on the phone that has the passport."
        )
        return _restore_page(pt, form.code, message, 404)
    own, found = await find_passport(store, pt.visitor)
    if own != pid:
        mine = found.value
        if mine is not None and mine.stamps:
            message = pt._(
                "This browser has stamps of its own already, so it cannot take another passport."
            )
            return _restore_page(pt, form.code, message, 409)
        await store.put(f"link.{pt.visitor}", pid)
    routes = sorted(
        {s.route for s in (await store.get(f"pp.{pid}", Passport) or Passport(id=pid)).stamps}
    )
    back = pt.safe_path(form.next, f"/p/routes/r/{routes[0]}#passport" if routes else "/")
    return pt.answer({"restored": True, "routes": routes}, next=back)
