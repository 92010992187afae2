"""Guides' routes: the console, PIN sign-in and out, groups and cues (forms from the
console, or JSON with a guide token)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import msgspec
import segno
from litestar import Response, get, post
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException
from litestar.params import FromPath, QueryParameter
from markupsafe import Markup
from promtour.plugin import PT, RequestContext, Tour, TourState, pick_text, utcnow

from .. import access, presence, records
from ..config import AudioGuideConfig
from ..events import AudioCueFired, AudioShowControl, AudioShowMessage
from .bodies import (
    ControlForm,
    FireCue,
    Fired,
    GroupStatus,
    MessageForm,
    PinForm,
    group_status,
)
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


async def _status(pt: RequestContext, state: TourState, group: records.Group) -> GroupStatus:
    """Phones connected now, the last cue (title and audio in the guide's language)."""
    ctx = pt.context(state)
    counts = await presence.counts(pt, ctx.tour_store, state.tour.key, group.code)
    last = group.last_cue
    cue = _config(state).cue(last.station, last.cue) if last else None
    if cue is None:
        return group_status(group, counts)
    lang = pt.lang_for(state.tour)
    play = cue.lang_for(lang, state.tour.default_language)
    src = ctx.media_url(cue.audio_for(play)) if play else ""
    return group_status(group, counts, cue.title_in(lang, cue.id), src)


async def _open_group(pt: RequestContext, state: TourState, code: str) -> records.Group:
    group = await records.get_group(pt.context(state).tour_store, code.upper())
    if group is None:
        raise NotFoundException(pt._("There is no open group with this code."))
    return group


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
    info = await _status(pt, state, group) if group else None
    last = group.last_cue if group else None
    if not station and last is not None:
        station = last.station
    # The next cue: the one after the last fired (in tour order), else the first.
    lang = pt.lang_for(tour)
    flat = [(st.id, c.id, c.title_in(lang, c.id)) for st, audio in stations for c in audio.cues]
    ids = [(station_id, cue_id) for station_id, cue_id, _ in flat]
    fired = (last.station, last.cue) if last else None
    at = ids.index(fired) + 1 if fired in ids else 0
    next_cue = flat[at] if at < len(flat) else None
    return pt.page(
        "audio_guide/guide.html",
        tour=tour,
        title=pt._("Guide console"),
        info=info,
        status_json=msgspec.json.encode(info).decode() if info else "",
        groups=await records.list_groups(store),
        stations=stations,
        current_station=station or (stations[0][0].id if stations else ""),
        next_cue=next_cue,
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
    return pt.answer(group_status(group, {}), status=201, next=_console_url(state.tour, group.code))


@get("/{enterprise:str}/{tour_id:str}/guide/groups/{code:str}", cache=False)
async def group_info(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], code: FromPath[str]
) -> Response[GroupStatus]:
    """Who is on the show page, per language, and the last cue (polled by the console)."""
    state = await _guide_tour(pt, enterprise, tour_id)
    group = await _open_group(pt, state, code)
    return pt.finish(Response(await _status(pt, state, group)))


@post("/{enterprise:str}/{tour_id:str}/guide/groups/{code:str}/cues", status_code=201)
async def fire_cue(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], code: FromPath[str]
) -> Response[Any]:
    """Fire a cue: every phone of the group plays it, in its language, at ``start_at``."""
    state = await _guide_tour(pt, enterprise, tour_id)
    tour = state.tour
    body = await pt.body(FireCue)
    ctx = pt.context(state)
    group = await _open_group(pt, state, code)
    config = _config(state)
    cue = config.cue(body.station, body.cue)
    if cue is None:
        raise HTTPException(
            status_code=400,
            detail=f"Station {body.station!r} has no cue {body.cue!r} on this tour.",
        )
    play = cue.lang_for(pt.lang_for(tour), tour.default_language)
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
        title=cue.title_in(pt.lang_for(tour), cue.id),
        start_at=ms(start_at),
        src=ctx.media_url(cue.audio_for(play)) if play else "",
    )
    return pt.answer(result, status=201, next=_console_url(tour, group.code, body.station))


@post("/{enterprise:str}/{tour_id:str}/guide/groups/{code:str}/control", status_code=200)
async def control(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], code: FromPath[str]
) -> Response[Any]:
    """Pause, resume or stop the cue in progress on every phone of the group (a machine
    starts up loudly, a visitor asks a question). A pause and a stop take effect at
    once; a resume after the show's lead, so that every phone starts again together
    from where they all paused."""
    state = await _guide_tour(pt, enterprise, tour_id)
    body = await pt.body(ControlForm)
    ctx = pt.context(state)
    group = await _open_group(pt, state, code)
    last = group.last_cue
    if last is None or last.stopped_at is not None:
        raise HTTPException(status_code=409, detail=pt._("No cue is playing."))
    now = utcnow()
    at, start_at = now, last.start_at
    if body.action == "pause":
        # Paused already: the same moment again. Before the start: held at zero.
        at = last.paused_at or max(now, last.start_at)
    elif body.action == "resume":
        if last.paused_at is None:
            raise HTTPException(status_code=409, detail=pt._("The cue is not paused."))
        at = now + timedelta(seconds=_config(state).show_lead_seconds)
        # The position kept at the pause, from the new moment on.
        held = max(timedelta(0), last.paused_at - last.start_at)
        start_at = at - held
    event = ctx.event(
        AudioShowControl,
        visitor=None,
        group=group.code,
        station=last.station,
        action=body.action,
        cue_event=last.event,
        at=at,
        start_at=start_at,
    )
    await ctx.publish(event)

    def change(cue: records.LastCue) -> None:
        if cue.event != last.event:
            return
        if body.action == "pause":
            cue.paused_at = cue.paused_at or at
        elif body.action == "resume":
            cue.paused_at, cue.start_at = None, start_at
        else:
            cue.stopped_at = at

    group = await records.update_last_cue(ctx.tour_store, group.code, change)
    return pt.answer(
        await _status(pt, state, group), next=_console_url(state.tour, group.code, last.station)
    )


@post("/{enterprise:str}/{tour_id:str}/guide/groups/{code:str}/messages", status_code=201)
async def message(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], code: FromPath[str]
) -> Response[Any]:
    """A short text shown at once on every phone of the group."""
    state = await _guide_tour(pt, enterprise, tour_id)
    body = await pt.body(MessageForm)
    text = " ".join(body.text.split())
    if not text:
        raise HTTPException(status_code=400, detail=pt._("Write a message first."))
    ctx = pt.context(state)
    group = await _open_group(pt, state, code)
    event = ctx.event(AudioShowMessage, visitor=None, group=group.code, text=text)
    await ctx.publish(event)
    await records.set_message(
        ctx.tour_store, group.code, records.LastMessage(text=text, sent=event.time)
    )
    group.last_message = records.LastMessage(text=text, sent=event.time)
    return pt.answer(
        await _status(pt, state, group), status=201, next=_console_url(state.tour, group.code)
    )


@get("/guides/{enterprise:str}")
async def guide_tours(pt: PT, enterprise: FromPath[str]) -> Response[Any]:
    """The console menu's «Групповой показ»: the enterprise's tours with group-show cues,
    each linked to its guide console (where a console session with the guide role
    needs no PIN)."""
    try:
        await pt.require_role(enterprise, access.GUIDE_ROLE.name)
    except NotAuthorizedException:
        return pt.to_sign_in()
    lang = pt.lang
    tours = [
        (pick_text(ctx.tour.name, lang, ctx.tour.id), access.guide_path(ctx.tour))
        for ctx in pt.enterprise(enterprise).tours()
        if any(station.cues for station in ctx.config.stations)
    ]
    return pt.page(
        "audio_guide/guide_tours.html",
        title=pt._("Group show"),
        tours=sorted(tours),
        console=f"/console/{enterprise}",
    )


GUIDE_ROUTES: list[Any] = [
    guide_tours,
    console,
    login,
    logout,
    create_group,
    group_info,
    fire_cue,
    control,
    message,
]
