"""Booking a class into a slot (public)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
from litestar import Response, get, post
from litestar.params import FromPath
from promtour.plugin import (
    PT,
    PluginContext,
    RateLimit,
    RequestContext,
    TourState,
    utcnow,
)

from .. import service
from ..config import Slot, VisitsConfig
from .leader import private_link

__all__ = ["book", "book_page"]

BOOK_LIMIT = RateLimit(name="visits-book", per_visitor=20, per_address=200, window=600)


class SlotView(msgspec.Struct):
    slot: Slot
    left: int
    waiting: int


async def _slot_views(ctx: PluginContext) -> list[SlotView]:
    config: VisitsConfig = ctx.config
    now = utcnow()
    horizon = now + timedelta(days=config.horizon_days)
    views = []
    for slot in config.all_slots(ctx.tour):
        if slot.starts - timedelta(hours=config.book_until_hours) <= now or slot.starts > horizon:
            continue
        state = await service.slot_state(ctx, slot.id)
        views.append(SlotView(slot, max(0, slot.capacity - state.taken), len(state.waitlist)))
    return views


def _book_page(
    pt: RequestContext,
    state: TourState,
    ctx: PluginContext,
    views: list[SlotView],
    *,
    form: service.BookingForm | None = None,
    error: service.BookingError | None = None,
) -> Response[Any]:

    config: VisitsConfig = ctx.config
    lang = pt.lang_for(state.tour)
    return pt.page(
        "visits/book.html",
        status=400 if error else 200,
        tour=state.tour,
        title=pt._("Book a visit"),
        slots=views,
        form=form or service.BookingForm(),
        error=error,
        consent=service.consent_text(config, lang, pt.ngettext),
        action=ctx.url(f"t/{state.tour.enterprise}/{state.tour.id}/book"),
    )


@get("/t/{enterprise:str}/{tour_id:str}/book")
async def book_page(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> Response[Any]:
    state = await pt.tour(enterprise, tour_id)
    ctx = pt.context(state)
    return _book_page(pt, state, ctx, await _slot_views(ctx))


@post("/t/{enterprise:str}/{tour_id:str}/book", status_code=200)
async def book(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> Response[Any]:
    state = await pt.tour(enterprise, tour_id)
    ctx = pt.context(state)
    pt.limit(BOOK_LIMIT)
    form = await pt.body(service.BookingForm)
    try:
        booking, _slot = await service.book(
            ctx, form, lang=pt.lang_for(state.tour), _=pt._, ngettext=pt.ngettext
        )
    except service.BookingError as exc:
        if pt.wants_json:
            return pt.finish(Response({"error": exc.message, "field": exc.field}, status_code=400))
        return _book_page(pt, state, ctx, await _slot_views(ctx), form=form, error=exc)
    link = private_link(pt, state, booking)
    if pt.wants_json:
        return pt.finish(
            Response({"booking": booking.id, "code": booking.code, "link": link}, status_code=201)
        )
    return pt.redirect(link)
