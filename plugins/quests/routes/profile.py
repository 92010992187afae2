"""A visitor's own pages: choosing a nickname and the printable certificate."""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import format_date
from litestar import Response, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from promtour.plugin import PT, pick_text, utcnow
from promtour.plugins.quests import engine
from promtour.plugins.quests.nicknames import MAX_LEN, MIN_LEN, NicknameError, check_nickname
from promtour.plugins.quests.routes.common import (
    ACTION_LIMIT,
    first,
    form,
    nickname_error,
    open_tour,
)
from promtour.plugins.quests.service import missions
from promtour.plugins.quests.service.visitors import load
from promtour.plugins.quests.views import badge_views, base_url

__all__ = ["certificate", "nickname"]


@post("/{enterprise:str}/{tour_id:str}/nickname", include_in_schema=False, status_code=200)
async def nickname(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> Response[Any]:
    """Choose a nickname for boards, the team page and the certificate."""
    tour_state, ctx, config = await open_tour(pt, enterprise, tour_id)
    pt.limit(ACTION_LIMIT)
    fields = await form(pt)
    back = pt.safe_path(first(fields, "next"), f"/t/{enterprise}/{tour_id}")
    try:
        name = check_nickname(first(fields, "nickname"))
    except NicknameError as exc:
        message = nickname_error(pt, exc)
        if pt.wants_json:
            raise HTTPException(status_code=400, detail=message) from None
        return pt.page(
            "quests/nickname_page.html",
            status=400,
            tour=tour_state.tour,
            title=pt._("Your nickname"),
            error=message,
            value=first(fields, "nickname")[:40],
            action=f"{base_url(tour_state.tour)}/nickname",
            back=back,
            min_len=MIN_LEN,
            max_len=MAX_LEN,
        )
    await missions.set_nickname(ctx, config, name, progress=await ctx.progress())
    return pt.redirect(back)


@get("/{enterprise:str}/{tour_id:str}/certificate", include_in_schema=False)
async def certificate(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> Response[str]:
    """A printable certificate: nickname, tour, enterprise, date, score and badges."""
    tour_state, ctx, config = await open_tour(pt, enterprise, tour_id)
    tour = tour_state.tour
    state = await load(ctx)
    if state is None or state.solved == 0:
        raise NotFoundException(pt._("Solve at least one mission to get a certificate."))
    lang = pt.lang_for(tour)
    company = await ctx.enterprise()
    day = date.fromisoformat(engine.local_day(config, state.completed or utcnow()))
    return pt.page(
        "quests/certificate.html",
        tour=tour,
        title=pt._("Certificate"),
        nickname=state.nickname,
        completed=state.completed is not None,
        tour_name=pick_text(tour.name, lang),
        enterprise_name=pick_text(company.name, lang) if company else tour.enterprise,
        date=format_date(day, format="long", locale=lang),
        iso_date=day.isoformat(),
        score=state.score,
        max_score=engine.max_score(config, tour),
        solved=state.solved,
        missions=len(engine.quest_missions(config, tour)),
        badges=[b for b in badge_views(config, state, lang, pt._) if b.earned],
        action=f"{base_url(tour)}/nickname",
        here=f"{base_url(tour)}/certificate",
        min_len=MIN_LEN,
        max_len=MAX_LEN,
    )
