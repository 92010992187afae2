"""Visitors' routes: listening reports and positions (JSON from the player), the
server clock, and the group show page with its live cue stream."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
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

from .. import presence, records
from ..config import INTRO, OUTRO, AudioGuideConfig
from ..events import (
    AudioCueFired,
    AudioListenFinished,
    AudioListenProgressed,
    AudioListenStarted,
    AudioShowControl,
    AudioShowMessage,
)
from ..panels import script_paragraphs, transcript
from .bodies import Accepted, ListenReport, PositionReport, ServerTime

__all__ = ["REPORTS", "VISITOR_ROUTES", "show_path"]

#: A guide's message is shown to a phone that opens the show this long after it.
MESSAGE_KEPT = timedelta(minutes=10)
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
    ctx = pt.context(state)
    await ctx.tour_store.update(
        records.positions_key(pt.visitor), records.Positions, change, ttl=ctx.visitor_ttl
    )
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
        events_url=f"{show_path(tour)}/events?code={group.code}" if group else "",
        time_url="/p/audio_guide/time",
        show_url=show_path(tour),
    )


@get("/{enterprise:str}/{tour_id:str}/show/events")
async def show_events(
    pt: PT,
    enterprise: FromPath[str],
    tour_id: FromPath[str],
    code: Annotated[str, QueryParameter(name="code")] = "",
) -> ServerSentEvent:
    """The cues of the visitor's group, live, with the guide's pauses, stops and
    messages; a late phone first gets the cue in progress. Each cue carries this phone's
    language's file and transcript. Opening it only reads: the phone is counted live
    (:mod:`..presence`), so a class joining at once makes no write conflicts."""
    state = await pt.tour(enterprise, tour_id)
    ctx = pt.context(state)
    if not code:
        # No code in the URL (an old page): the group the visitor joined.
        progress = await ctx.progress()
        code = (progress.group if progress else None) or ""
    # The group's code is what lets a phone in (joining takes nothing else), so the
    # stream needs no per-visitor read: a burst of a class costs one shared read.
    group = await records.get_group_shared(ctx.tour_store, code.strip().upper())
    if group is None:
        raise NotFoundException(pt._("Join an open group first: ask your guide for the code."))
    tour = state.tour
    lang = pt.lang_for(tour)
    config: AudioGuideConfig = state.configs["audio_guide"]

    async def to_message(seq: int, event: Event) -> SseMessage | None:
        if event.group != group.code:
            return None
        if isinstance(event, AudioShowControl):
            data: dict[str, object] = {"action": event.action, "cue_event": event.cue_event}
            data.update(at=ms(event.at), start_at=ms(event.start_at))
            return SseMessage(event="control", data=data)
        if isinstance(event, AudioShowMessage):
            return SseMessage(event="message", data={"id": event.id, "text": event.text})
        if not isinstance(event, AudioCueFired):
            return None
        cue = config.cue(event.station or "", event.cue)
        play = cue.lang_for(lang, tour.default_language) if cue else None
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
                # Without a transcript file, the cue's script is read as the text.
                "script": [] if cues else script_paragraphs(cue.script.get(play, "")),
            },
        )

    hello: dict[str, Any] = {"group": group.code, "lang": lang}
    if group.last_message is not None and utcnow() - group.last_message.sent < MESSAGE_KEPT:
        hello["message"] = group.last_message.text
    presence.watch(pt, ctx.tour_store, tour.key, group.code)
    return event_stream(
        pt,
        # Every event of the tour: cues, controls and messages are three types, and
        # one filter per tour is one shared feed per process (other types are skipped).
        subject_for(tour.enterprise, tour.id, ">"),
        to_message,
        since=records.recent_since(group, utcnow()),
        first=[SseMessage(event="hello", data=hello)],
        presence=presence.key_for(tour.key, group.code, lang),
    )


VISITOR_ROUTES: list[Any] = [listen, position, server_time, show, show_events]
