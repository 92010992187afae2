"""Guides' routes: the console, PIN sign-in and out, groups and cues (forms from the
console, or JSON with a guide token)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import segno
from litestar import Response, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, QueryParameter
from markupsafe import Markup
from promtour.plugin import PT, RequestContext, Tour, TourState, utcnow

from .. import access, records
from ..config import AudioGuideConfig
from ..events import AudioCueFired
from .bodies import FireCue, Fired, GroupStatus, PinForm, group_status
from .visitors import ms, show_path

__all__ = ["GUIDE_ROUTES"]


def _console_url(tour: Tour, code: str = "", station: str = "") -> str:
    url = access.guide_path(tour)
    query = "&".join(f"{k}={v}" for k, v in (("group", code), ("station", station)) if v)
    return f"{url}?{query}" if query else url


def _config(state: TourState) -> AudioGuideConfig:
    config: AudioGuideConfig = state.configs["audio_guide"]
    return config


async def _guide_tour(pt: RequestContext, enterprise: str, tour_id: str) -> TourState:
    """The tour, if the caller is its guide (403 otherwise)."""
    state = await pt.tour(enterprise, tour_id)
    await access.require_guide(pt, state.tour, _config(state))
    return state


def _login_page(pt: RequestContext, state: TourState, error: str = "", status: int = 200) -> Any:
    tour = state.tour
    return pt.page(
        "audio_guide/guide_login.html",
        status=status,
        tour=tour,
        title=pt._("Guide console"),
        action=f"{access.guide_path(tour)}/login",
        error=error,
        has_pin=bool(_config(state).guide_pin),
    )


def _last_title(config: AudioGuideConfig, group: records.Group | None, lang: str) -> str:
    last = group.last_cue if group else None
    cue = config.cue(last.station, last.cue) if last else None
    return cue.title_in(lang) if cue else ""


@get("/{enterprise:str}/{tour_id:str}/guide")
async def console(
    pt: PT,
    enterprise: FromPath[str],
    tour_id: FromPath[str],
    code: Annotated[str, QueryParameter(name="group")] = "",
    station: Annotated[str, QueryParameter(name="station")] = "",
) -> Response[str]:
    """The guide console, or the PIN form for someone who is not signed in."""
    state = await pt.tour(enterprise, tour_id)
    tour = state.tour
    config = _config(state)
    if not await access.is_guide(pt, tour, config):
        return _login_page(pt, state)
    store = pt.context(state).tour_store
    group = await records.get_group(store, code.upper()) if code else None
    qr = Markup("")
    join_url = ""
    if group is not None:
        join_url = f"{pt.public_url}{show_path(tour)}?code={group.code}"
        # segno's own markup of our own URL: trusted.
        qr = Markup(segno.make(join_url, error="q").svg_inline(scale=5, border=4))
    stations = [
        (s, audio)
        for s in tour.stations
        if (audio := config.station(s.id)) is not None and audio.cues
    ]
    return pt.page(
        "audio_guide/guide.html",
        tour=tour,
        title=pt._("Guide console"),
        info=group_status(group) if group else None,
        last_title=_last_title(config, group, pt.lang_for(tour)),
        groups=await records.list_groups(store),
        stations=stations,
        current_station=station,
        qr=qr,
        join_url=join_url,
        base=access.guide_path(tour),
        lead=config.show_lead_seconds,
    )


@post("/{enterprise:str}/{tour_id:str}/guide/login")
async def login(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> Response[Any]:
    state = await pt.tour(enterprise, tour_id)
    form = await pt.body(PinForm)
    problem = access.check_pin(pt, _config(state), form.pin)
    if problem is not None:
        return _login_page(pt, state, pt._(problem), status=403)
    response = pt.redirect(access.guide_path(state.tour))
    return access.remember_guide(pt, state.tour, _config(state), response)


@post("/{enterprise:str}/{tour_id:str}/guide/logout")
async def logout(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> Response[Any]:
    state = await pt.tour(enterprise, tour_id)
    return access.logout(state.tour, pt.redirect(access.guide_path(state.tour)))


@post("/{enterprise:str}/{tour_id:str}/guide/groups", status_code=201)
async def create_group(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> Response[Any]:
    """Open a new group show with a short code."""
    state = await _guide_tour(pt, enterprise, tour_id)
    group = await records.create_group(pt.context(state).tour_store)
    return pt.answer(group_status(group), status=201, next=_console_url(state.tour, group.code))


@get("/{enterprise:str}/{tour_id:str}/guide/groups/{code:str}", cache=False)
async def group_info(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], code: FromPath[str]
) -> Response[GroupStatus]:
    """Who is on the show page, per language, and the last cue (polled by the console)."""
    state = await _guide_tour(pt, enterprise, tour_id)
    group = await records.get_group(pt.context(state).tour_store, code.upper())
    if group is None:
        raise NotFoundException(pt._("There is no open group with this code."))
    return pt.finish(Response(group_status(group)))


@post("/{enterprise:str}/{tour_id:str}/guide/groups/{code:str}/cues", status_code=201)
async def fire_cue(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], code: FromPath[str]
) -> Response[Any]:
    """Fire a cue: every phone of the group plays it, in its language, at ``start_at``."""
    state = await _guide_tour(pt, enterprise, tour_id)
    tour = state.tour
    body = await pt.body(FireCue)
    ctx = pt.context(state)
    group = await records.get_group(ctx.tour_store, code.upper())
    if group is None:
        raise NotFoundException(pt._("There is no open group with this code."))
    config = _config(state)
    cue = config.cue(body.station, body.cue)
    if cue is None:
        raise HTTPException(
            status_code=400,
            detail=f"Station {body.station!r} has no cue {body.cue!r} on this tour.",
        )
    fired = utcnow()
    start_at = fired + timedelta(seconds=config.show_lead_seconds)
    # A guide is not a visitor: the event names the group only.
    event = ctx.event(
        AudioCueFired,
        visitor=None,
        group=group.code,
        station=body.station,
        cue=body.cue,
        start_at=start_at,
    )
    await ctx.publish(event)
    last = records.LastCue(
        event=event.id, station=body.station, cue=body.cue, start_at=start_at, fired=fired
    )
    await records.set_last_cue(ctx.tour_store, group.code, last)
    result = Fired(
        event=event.id,
        group=group.code,
        station=body.station,
        cue=body.cue,
        title=cue.title_in(pt.lang_for(tour)),
        start_at=ms(start_at),
    )
    return pt.answer(result, status=201, next=_console_url(tour, group.code, body.station))


GUIDE_ROUTES: list[Any] = [console, login, logout, create_group, group_info, fire_cue]
