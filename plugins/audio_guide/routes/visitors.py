"""Visitors' routes: listening reports and positions (JSON from the player), the
server clock, and the group show page with its live cue stream."""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any

from litestar import Response, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import ServerSentEvent
from promtour.plugin import (
    PT,
    Event,
    RateLimit,
    RequestContext,
    SseMessage,
    Tour,
    TourState,
    event_stream,
    subject_for,
    utcnow,
)

from .. import records
from ..config import INTRO, OUTRO, AudioGuideConfig
from ..events import AudioCueFired, AudioListenFinished, AudioListenProgressed, AudioListenStarted
from ..panels import transcript
from .bodies import Accepted, ListenReport, PositionReport, ServerTime

__all__ = ["REPORTS", "VISITOR_ROUTES", "show_path"]

_LISTEN_NS = uuid.UUID("0b7e4c8a-2d6f-4e55-9a3c-5f1d2e8b7a61")
#: Listening reports and positions: a player sends a few a minute; a whole school
#: class behind one address sends many more.
REPORTS = RateLimit(name="audio_guide.reports", per_visitor=240, per_address=6000, window=60.0)


def show_path(tour: Tour) -> str:
    return f"/p/audio_guide/{tour.enterprise}/{tour.id}/show"


async def _reported_tour(
    pt: RequestContext, enterprise: str, tour_id: str, report: ListenReport | PositionReport
) -> TourState:
    """The tour of a player's report, counted against :data:`REPORTS`; 400 naming the
    track or language the tour does not have."""
    pt.limit(REPORTS)
    state = await pt.tour(enterprise, tour_id)
    config: AudioGuideConfig = state.configs["audio_guide"]
    track = config.track_at(report.place, report.track)
    if track is None:
        raise HTTPException(
            status_code=400,
            detail=f"There is no track {report.track!r} at {report.place!r} on this tour.",
        )
    if report.lang not in track.audio:
        raise HTTPException(
            status_code=400,
            detail=f"Track {report.track!r} has no audio in language {report.lang!r}.",
        )
    return state


def ms(value: Any) -> float:
    """A datetime as milliseconds since the epoch (what the phones' clocks use)."""
    return round(value.timestamp() * 1000, 1)


@post("/{enterprise:str}/{tour_id:str}/listen", status_code=202)
async def listen(
    pt: PT, enterprise: FromPath[str], tour_id: FromPath[str], data: JSONBody[ListenReport]
) -> Response[Accepted]:
    """A listening milestone from the player, published as an event."""
    state = await _reported_tour(pt, enterprise, tour_id, data)
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
    state = await _reported_tour(pt, enterprise, tour_id, data)
    slot = records.position_slot(data.place, data.track, data.lang)
    stopped = records.Position(seconds=data.seconds, duration=data.duration)

    def change(current: records.Positions | None) -> records.Positions:
        current = current or records.Positions()
        current.tracks[slot] = stopped
        return current

    # One record per visitor and tour (one read per station page); two tabs saving at
    # once both land (optimistic concurrency, retried).
    store = pt.context(state).tour_store
    await store.update(records.positions_key(pt.visitor), records.Positions, change)
    return pt.finish(Response(Accepted(), status_code=202))


@get("/time", cache=False)
async def server_time() -> Response[ServerTime]:
    """The server clock, for phones to measure their offset (NTP style)."""
    return Response(ServerTime(now=time.time() * 1000), headers={"Cache-Control": "no-store"})


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
    group = await records.get_group(ctx.tour_store, code) if code else None
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
        join_url=ctx.tour_url("group"),
        events_url=f"{show_path(tour)}/events",
        time_url="/p/audio_guide/time",
        show_url=show_path(tour),
    )


@get("/{enterprise:str}/{tour_id:str}/show/events")
async def show_events(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> ServerSentEvent:
    """The cues of the visitor's group, live; a late phone first gets the cue in
    progress. Each message carries this phone's language's file and transcript."""
    state = await pt.tour(enterprise, tour_id)
    ctx = pt.context(state)
    progress = await ctx.progress()
    code = progress.group if progress else None
    group = await records.get_group(ctx.tour_store, code or "")
    if group is None:
        raise NotFoundException(pt._("Join an open group first: ask your guide for the code."))
    lang = pt.lang_for(state.tour)
    group = await records.note_member(ctx.tour_store, group, pt.visitor, lang)
    config: AudioGuideConfig = state.configs["audio_guide"]

    async def to_message(seq: int, event: Event) -> SseMessage | None:
        if not isinstance(event, AudioCueFired) or event.group != group.code:
            return None
        cue = config.cue(event.station or "", event.cue)
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
                "start_at": ms(event.start_at),
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


VISITOR_ROUTES: list[Any] = [listen, position, server_time, show, show_events]
