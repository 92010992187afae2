"""The audio guide's web routes, mounted under ``/p/audio_guide/``.

Visitors: listening reports and positions (JSON from the player), the clock, the
group show page and its live cue stream. Guides: the console, PIN sign-in, groups
and cues (forms from the console, or JSON with a bearer token).
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Annotated, Any, Literal

import msgspec
import segno
from litestar import Request, Response, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import ServerSentEvent
from markupsafe import Markup
from promtour.events import Event, subject_for
from promtour.models import Tour, utcnow
from promtour.tours import TourState
from promtour.web.request import PT, RequestContext
from promtour.web.security import RateLimiter
from promtour.web.sse import SseMessage, event_stream

from . import access, records
from .config import AudioGuideConfig, Track
from .events import AudioCueFired, AudioListenFinished, AudioListenProgressed, AudioListenStarted
from .panels import INTRO, OUTRO, transcript

__all__ = ["ROUTES"]

_LISTEN_NS = uuid.UUID("0b7e4c8a-2d6f-4e55-9a3c-5f1d2e8b7a61")
#: Listening reports and positions per visitor and minute (a player sends a few).
_reports = RateLimiter(limit=240, window=60.0)

Place = Annotated[str, msgspec.Meta(pattern=r"^(_intro|_outro|[a-z0-9][a-z0-9_-]{0,39})$")]
Id = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
Lang = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}$")]


class TooManyRequests(HTTPException):
    status_code = 429


# --- request and response bodies ----------------------------------------------------------


class ListenReport(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Sent by the player: ``listen`` is a random id of one listening session."""

    listen: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9-]{8,40}$")]
    kind: Literal["started", "progressed", "finished"]
    place: Place
    track: Id
    lang: Lang
    quartile: Annotated[int, msgspec.Meta(ge=0, le=3)] = 0


class PositionReport(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    place: Place
    track: Id
    lang: Lang
    seconds: Annotated[float, msgspec.Meta(ge=0, le=86400)]
    duration: Annotated[float, msgspec.Meta(ge=0, le=86400)] = 0.0


class Accepted(msgspec.Struct):
    ok: bool = True
    event: str | None = None


class ServerTime(msgspec.Struct):
    #: Server clock, milliseconds since the epoch.
    now: float


class FireCue(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    station: Id
    cue: Id


class Fired(msgspec.Struct, kw_only=True):
    event: str
    group: str
    station: str
    cue: str
    #: The cue's title in the guide's language.
    title: str
    #: When the phones start, milliseconds since the epoch (server clock).
    start_at: float


class GroupStatus(msgspec.Struct, kw_only=True):
    code: str
    #: Phones on the show page per language.
    members: dict[str, int]
    total: int
    last_cue: records.LastCue | None = None


class PinForm(msgspec.Struct, kw_only=True):
    pin: Annotated[str, msgspec.Meta(max_length=64)] = ""


# --- helpers ------------------------------------------------------------------------------


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    accept = request.headers.get("accept") or ""
    return (
        "application/json" in accept
        or request.content_type[0] == "application/json"
        or bool(request.headers.get("authorization"))
    )


async def _read_body(request: Request[Any, Any, Any], type_: type[Any]) -> Any:
    """A form or JSON body as ``type_``; 400 naming the field when it does not fit."""
    try:
        if request.content_type[0] == "application/json":
            raw = await request.json()
        else:
            form = await request.form()
            raw = {k: v for k, v in form.items() if k != "_csrf"}
        return msgspec.convert(raw, type_, strict=False)
    except msgspec.ValidationError as exc:
        raise HTTPException(status_code=400, detail=f"Invalid request: {exc}") from None
    except HTTPException:
        raise
    except Exception as exc:
        raise HTTPException(status_code=400, detail="The request body cannot be read.") from exc


def _track_at(config: AudioGuideConfig, place: str, track_id: str) -> Track | None:
    if place == INTRO:
        return config.intro if config.intro and config.intro.id == track_id else None
    if place == OUTRO:
        return config.outro if config.outro and config.outro.id == track_id else None
    station = config.station(place)
    return station.track(track_id) if station else None


def _checked_track(state: TourState, place: str, track_id: str, lang: str) -> Track:
    track = _track_at(state.configs["audio_guide"], place, track_id)
    if track is None:
        raise HTTPException(
            status_code=400, detail=f"There is no track {track_id!r} at {place!r} on this tour."
        )
    if lang not in track.audio:
        raise HTTPException(
            status_code=400, detail=f"Track {track_id!r} has no audio in language {lang!r}."
        )
    return track


def _limit(pt: RequestContext) -> None:
    if not _reports.allow(pt.visitor):
        raise TooManyRequests(detail=pt._("Too many reports in a short time."))


def _ms(value: Any) -> float:
    return round(value.timestamp() * 1000, 1)


def _console_url(tour: Tour, code: str = "", station: str = "") -> str:
    url = access.guide_path(tour)
    query = "&".join(f"{k}={v}" for k, v in (("group", code), ("station", station)) if v)
    return f"{url}?{query}" if query else url


def _show_path(tour: Tour) -> str:
    return f"/p/audio_guide/{tour.enterprise}/{tour.id}/show"


# --- visitors: listening --------------------------------------------------------------------


@post("/{enterprise:str}/{tour_id:str}/listen", status_code=202)
async def listen(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], data: JSONBody[ListenReport]
) -> Response[Accepted]:
    """A listening milestone from the player, published as an event."""
    _limit(pt)
    state = await pt.tour(enterprise, tour_id)
    _checked_track(state, data.place, data.track, data.lang)
    ctx = pt.context(state)
    progress = await ctx.progress()
    ctx.group = progress.group if progress else None
    station = None if data.place in (INTRO, OUTRO) else data.place
    # The same report sent twice (a retry) is the same event: stored once.
    event_id = uuid.uuid5(
        _LISTEN_NS, f"{state.tour.key}:{pt.visitor}:{data.listen}:{data.kind}:{data.quartile}"
    ).hex
    common: dict[str, Any] = {"id": event_id, "station": station, "track": data.track}
    event: Event
    if data.kind == "started":
        event = ctx.event(AudioListenStarted, lang=data.lang, **common)
    elif data.kind == "finished":
        event = ctx.event(AudioListenFinished, lang=data.lang, **common)
    else:
        if not 1 <= data.quartile <= 3:
            raise HTTPException(status_code=400, detail="quartile: must be 1, 2 or 3.")
        event = ctx.event(AudioListenProgressed, lang=data.lang, quartile=data.quartile, **common)
    await ctx.publish(event)
    return pt.finish(Response(Accepted(event=event.id), status_code=202))


@post("/{enterprise:str}/{tour_id:str}/position", status_code=202)
async def position(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], data: JSONBody[PositionReport]
) -> Response[Accepted]:
    """Where the visitor stopped, kept per visitor (cookie), track and language."""
    _limit(pt)
    state = await pt.tour(enterprise, tour_id)
    _checked_track(state, data.place, data.track, data.lang)
    key = records.positions_key(state.tour, pt.visitor)
    slot = records.position_slot(data.place, data.track, data.lang)
    stopped = records.Position(seconds=data.seconds, duration=data.duration)

    def change(current: records.Positions | None) -> records.Positions:
        current = current or records.Positions()
        current.tracks[slot] = stopped
        return current

    # One record per visitor and tour (one read per station page); two tabs saving at
    # once both land (optimistic concurrency, retried).
    await pt.context(state).store.update(key, records.Positions, change)
    return pt.finish(Response(Accepted(), status_code=202))


@get("/time", cache=False)
async def server_time() -> Response[ServerTime]:
    """The server clock, for phones to measure their offset (NTP style)."""
    return Response(ServerTime(now=time.time() * 1000), headers={"Cache-Control": "no-store"})


# --- visitors: the group show ----------------------------------------------------------------


@get("/{enterprise:str}/{tour_id:str}/show")
async def show(
    pt: PT,
    enterprise: FromPath[str],
    tour_id: FromPath[str],
    code: Annotated[str, QueryParameter(name="code")] = "",
) -> Response[str]:
    """The phone's page for a group show: join with one tap, then it plays the cues."""
    state = await pt.tour(enterprise, tour_id)
    ctx = pt.context(state)
    progress = await ctx.progress()
    code = (code or (progress.group if progress else "") or "").strip().upper()
    group = await records.get_group(ctx.store, state.tour, code) if code else None
    joined = bool(group and progress and progress.group == group.code)
    tour = state.tour
    return pt.page(
        "audio_guide/show.html",
        status=404 if code and group is None else 200,
        tour=tour,
        title=pt._("Group show"),
        code=code,
        group=group,
        joined=joined,
        join_url=f"/t/{tour.enterprise}/{tour.id}/group",
        events_url=f"{_show_path(tour)}/events",
        time_url="/p/audio_guide/time",
        show_url=_show_path(tour),
    )


@get("/{enterprise:str}/{tour_id:str}/show/events")
async def show_events(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> ServerSentEvent:
    """The cues of the visitor's group, live; a late phone first gets the cue in
    progress. Each message carries this phone's language's file and transcript."""
    state = await pt.tour(enterprise, tour_id)
    ctx = pt.context(state)
    progress = await ctx.progress()
    code = progress.group if progress else None
    group = await records.get_group(ctx.store, state.tour, code or "")
    if group is None:
        raise NotFoundException(pt._("Join an open group first: ask your guide for the code."))
    lang = pt.lang_for(state.tour)
    group = await records.note_member(ctx.store, state.tour, group, pt.visitor, lang)
    config: AudioGuideConfig = state.configs["audio_guide"]

    async def to_message(seq: int, event: Event) -> SseMessage | None:
        if not isinstance(event, AudioCueFired) or event.group != group.code:
            return None
        station = config.station(event.station or "")
        cue = station.cue(event.cue) if station else None
        play = cue.lang_for(lang, state.tour.default_language) if cue else None
        if cue is None or play is None:
            return None
        cues = await transcript(ctx, cue.transcript_for(play))
        return SseMessage(
            event="cue",
            data={
                "id": event.id,
                "station": event.station,
                "cue": cue.id,
                "title": cue.title_in(lang),
                "lang": play,
                "src": ctx.media_url(cue.audio_for(play)),
                "start_at": _ms(event.start_at),
                "transcript": [{"start": c.start, "end": c.end, "text": c.text} for c in cues],
            },
        )

    hello = SseMessage(event="hello", data={"group": group.code, "lang": lang})
    return event_stream(
        pt,
        subject_for(state.tour.enterprise, state.tour.id, AudioCueFired.__struct_config__.tag),
        to_message,
        since=records.recent_since(group, utcnow()),
        first=[hello],
    )


# --- guides ----------------------------------------------------------------------------------


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
    if not await access.is_guide(pt, tour):
        return pt.page(
            "audio_guide/guide_login.html",
            tour=tour,
            title=pt._("Guide console"),
            action=f"{access.guide_path(tour)}/login",
            error="",
            has_pin=bool(tour.guide_pin),
        )
    ctx = pt.context(state)
    config: AudioGuideConfig = state.configs["audio_guide"]
    group = await records.get_group(ctx.store, tour, code.upper()) if code else None
    qr = Markup("")
    join_url = ""
    if group is not None:
        join_url = f"{ctx.public_url}{_show_path(tour)}?code={group.code}"
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
        info=_status(group) if group else None,
        last_title=_last_title(config, group, pt.lang_for(tour)),
        groups=await records.list_groups(ctx.store, tour),
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
    tour = state.tour
    form = await _read_body(pt.request, PinForm)
    problem = access.check_pin(pt, tour, form.pin)
    if problem is not None:
        return pt.page(
            "audio_guide/guide_login.html",
            status=403,
            tour=tour,
            title=pt._("Guide console"),
            action=f"{access.guide_path(tour)}/login",
            error=pt._(problem),
            has_pin=bool(tour.guide_pin),
        )
    return access.remember_guide(pt, tour, pt.redirect(access.guide_path(tour)))


@post("/{enterprise:str}/{tour_id:str}/guide/logout")
async def logout(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> Response[Any]:
    state = await pt.tour(enterprise, tour_id)
    return access.logout(state.tour, pt.redirect(access.guide_path(state.tour)))


@post("/{enterprise:str}/{tour_id:str}/guide/groups", status_code=201)
async def create_group(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> Response[Any]:
    """Open a new group show with a short code."""
    state = await pt.tour(enterprise, tour_id)
    await access.require_guide(pt, state.tour)
    group = await records.create_group(pt.context(state).store, state.tour)
    if _wants_json(pt.request):
        return pt.finish(Response(_status(group), status_code=201))
    return pt.redirect(_console_url(state.tour, group.code))


def _last_title(config: AudioGuideConfig, group: records.Group | None, lang: str) -> str:
    last = group.last_cue if group else None
    station = config.station(last.station) if last else None
    cue = station.cue(last.cue) if station and last else None
    return cue.title_in(lang) if cue else ""


def _status(group: records.Group) -> GroupStatus:
    counts = group.counts()
    return GroupStatus(
        code=group.code, members=counts, total=sum(counts.values()), last_cue=group.last_cue
    )


@get("/{enterprise:str}/{tour_id:str}/guide/groups/{code:str}", cache=False)
async def group_status(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], code: FromPath[str]
) -> Response[GroupStatus]:
    """Who is on the show page, per language, and the last cue (polled by the console)."""
    state = await pt.tour(enterprise, tour_id)
    await access.require_guide(pt, state.tour)
    group = await records.get_group(pt.context(state).store, state.tour, code.upper())
    if group is None:
        raise NotFoundException(pt._("There is no open group with this code."))
    return pt.finish(Response(_status(group), headers={"Cache-Control": "no-store"}))


@post("/{enterprise:str}/{tour_id:str}/guide/groups/{code:str}/cues", status_code=201)
async def fire_cue(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], code: FromPath[str]
) -> Response[Any]:
    """Fire a cue: every phone of the group plays it, in its language, at ``start_at``."""
    state = await pt.tour(enterprise, tour_id)
    tour = state.tour
    await access.require_guide(pt, tour)
    body: FireCue = await _read_body(pt.request, FireCue)
    ctx = pt.context(state)
    group = await records.get_group(ctx.store, tour, code.upper())
    if group is None:
        raise NotFoundException(pt._("There is no open group with this code."))
    config: AudioGuideConfig = state.configs["audio_guide"]
    station = config.station(body.station)
    cue = station.cue(body.cue) if station else None
    if cue is None:
        raise HTTPException(
            status_code=400,
            detail=f"Station {body.station!r} has no cue {body.cue!r} on this tour.",
        )
    fired = utcnow()
    start_at = fired + timedelta(seconds=config.show_lead_seconds)
    ctx.visitor = None  # a guide is not a visitor: the event names the group only
    ctx.group = group.code
    event = ctx.event(AudioCueFired, station=body.station, cue=body.cue, start_at=start_at)
    await ctx.publish(event)
    await records.set_last_cue(
        ctx.store,
        tour,
        group.code,
        records.LastCue(
            event=event.id, station=body.station, cue=body.cue, start_at=start_at, fired=fired
        ),
    )
    if _wants_json(pt.request):
        result = Fired(
            event=event.id,
            group=group.code,
            station=body.station,
            cue=body.cue,
            title=cue.title_in(pt.lang_for(tour)),
            start_at=_ms(start_at),
        )
        return pt.finish(Response(result, status_code=201))
    return pt.redirect(_console_url(tour, group.code, body.station))


ROUTES: list[Any] = [
    listen,
    position,
    server_time,
    show,
    show_events,
    console,
    login,
    logout,
    create_group,
    group_status,
    fire_cue,
]
