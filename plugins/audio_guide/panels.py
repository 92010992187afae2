"""The visitor's panels: the station player, the intro on the start page, the outro.

Everything a player needs is rendered into the page: the audio URL, the transcript
(from the WebVTT file, so it is there without JavaScript and for screen readers),
and where the visitor stopped last time (from the plugin store). The JavaScript only
adds the custom controls, the highlight, resume and the listening reports.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
from promtour.context import PageContext, PluginContext
from promtour.plugin import Panel

from .config import AudioGuideConfig, Track
from .records import Position, position_key
from .vtt import Cue, parse_vtt

__all__ = ["PlayerView", "TrackView", "finish_panel", "start_panel", "station_panel", "transcript"]

#: Seconds a parsed transcript is reused before it is read again from the media store.
TRANSCRIPT_TTL = 30.0
_transcripts: dict[str, tuple[float, list[Cue]]] = {}

#: Places of the tour's intro and outro (station ids cannot start with "_").
INTRO = "_intro"
OUTRO = "_outro"


class CueView(msgspec.Struct, kw_only=True):
    start: float
    end: float
    stamp: str
    text: str


class TrackView(msgspec.Struct, kw_only=True):
    id: str
    dom_id: str
    title: str
    lang: str
    src: str
    cues: list[CueView]
    credits: str
    default: bool
    #: A note when the track is not in the visitor's language.
    lang_note: str = ""
    resume: float = 0.0
    #: When the resume position was saved, milliseconds since the epoch.
    resume_at: int = 0


class PlayerView(msgspec.Struct, kw_only=True):
    place: str
    tracks: list[TrackView]
    listen_url: str
    position_url: str
    csrf: str
    autoplay_allowed: bool
    media_title: str
    media_album: str
    media_artist: str


def stamp(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


async def transcript(ctx: PluginContext, name: str) -> list[Cue]:
    """The cues of a transcript in the tour's media (cached for a short while)."""
    key = f"{ctx.tour.enterprise}/{ctx.tour.id}/{name}"
    cached = _transcripts.get(key)
    now = time.monotonic()
    if cached is not None and now - cached[0] < TRANSCRIPT_TTL:
        return cached[1]
    data = await ctx.read_media(name)
    cues = parse_vtt(data.decode("utf-8", errors="replace")) if data else []
    if len(_transcripts) > 1000:
        _transcripts.clear()
    _transcripts[key] = (now, cues)
    return cues


async def _track_view(
    page: PageContext, place: str, track: Track, default: bool
) -> TrackView | None:
    lang = track.lang_for(page.lang, page.tour.default_language)
    if lang is None:
        return None
    cues, position = await asyncio.gather(
        transcript(page, track.transcript_for(lang)),
        page.store.get(
            position_key(page.tour, page.visitor or "-", place, track.id, lang), Position
        )
        if page.visitor
        else _none(),
    )
    note = ""
    if lang != page.lang:
        note = page._("This recording is not available in your language yet.")
    return TrackView(
        id=track.id,
        dom_id=f"ag-{place.strip('_')}-{track.id}",
        title=track.title_in(page.lang),
        lang=lang,
        src=page.media_url(track.audio_for(lang)),
        cues=[CueView(start=c.start, end=c.end, stamp=stamp(c.start), text=c.text) for c in cues],
        credits=page.text(track.credits),
        default=default,
        lang_note=note,
        resume=round(position.seconds, 2) if position else 0.0,
        resume_at=int(position.updated.timestamp() * 1000) if position else 0,
    )


async def _none() -> None:
    return None


async def _player(page: PageContext, place: str, tracks: list[Track], default: str) -> Any:
    config: AudioGuideConfig = page.config
    views = [
        v
        for v in await asyncio.gather(
            *(_track_view(page, place, t, t.id == default) for t in tracks)
        )
        if v is not None
    ]
    if not views:
        return None
    if not any(v.default for v in views):
        views[0].default = True
    tour = page.tour
    base = f"{tour.enterprise}/{tour.id}"
    album = page.text(page.station.name) if page.station else page.text(tour.name)
    return PlayerView(
        place=place,
        tracks=views,
        listen_url=page.url(f"{base}/listen"),
        position_url=page.url(f"{base}/position"),
        csrf=page.csrf_token,
        autoplay_allowed=config.autoplay_allowed and place not in (INTRO, OUTRO),
        media_title=album,
        media_album=page.text(tour.name),
        media_artist=page.text(tour.name),
    )


async def station_panel(page: PageContext) -> Panel | None:
    config: AudioGuideConfig = page.config
    if page.station is None:
        return None
    audio = config.station(page.station.id)
    if audio is None or not audio.tracks:
        return None
    default = config.default_for(audio)
    player = await _player(page, page.station.id, audio.tracks, default.id if default else "")
    if player is None:
        return None
    return Panel(
        title=page._("Listen"),
        html=page.render("audio_guide/panel.html", player=player),
        order=10,
    )


async def start_panel(page: PageContext) -> Panel | None:
    config: AudioGuideConfig = page.config
    player = None
    if config.intro is not None:
        player = await _player(page, INTRO, [config.intro], config.intro.id)
    has_cues = any(s.cues for s in config.stations)
    if player is None and not has_cues:
        return None
    tour = page.tour
    return Panel(
        title=page._("Audio guide"),
        html=page.render(
            "audio_guide/start.html",
            player=player,
            has_cues=has_cues,
            show_url=page.url(f"{tour.enterprise}/{tour.id}/show"),
        ),
        order=10,
    )


async def finish_panel(page: PageContext) -> Panel | None:
    config: AudioGuideConfig = page.config
    player = None
    if config.outro is not None:
        player = await _player(page, OUTRO, [config.outro], config.outro.id)
    credits = page.text(config.credits)
    if player is None and not credits:
        return None
    return Panel(
        title=page._("Audio guide"),
        html=page.render("audio_guide/finish.html", player=player, credits=credits),
        order=10,
    )
