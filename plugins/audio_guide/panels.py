"""The visitor's panels: the station player, the intro on the start page, the outro.

Everything a player needs is rendered into the page: the audio URL, the transcript
(from the WebVTT file, so it is there without JavaScript and for screen readers),
and where the visitor stopped last time (from the tour's store). The JavaScript only
adds the custom controls, the highlight, resume and the listening reports.

The station panel is on every scan, so it is cheap: its markup depends on the visitor
only through the CSRF token and the resume positions. It is rendered once per tour
revision, place and language with slots where those go (``page.cached_frame``), and
each scan fills the slots from one store read. ``fresh=True`` renders the same panel
with the visitor's values in place and no cache (the tests compare the two).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec
from markupsafe import Markup, escape
from promtour.plugin import PageContext, Panel, PluginContext, hookimpl

from .config import INTRO, OUTRO, AudioGuideConfig, Track
from .records import Position, Positions, position_slot, positions_key
from .vtt import Cue, parse_vtt

__all__ = [
    "PlayerView",
    "TrackView",
    "finish_panel",
    "script_paragraphs",
    "start_panel",
    "station_panel",
    "transcript",
]

#: The slot of the CSRF token; a track's resume slots are ``resume.<position slot>``
#: and ``at.<position slot>``.
CSRF_SLOT = "csrf"


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
    #: Where the visitor's position in this track is kept (:func:`position_slot`).
    slot: str
    #: A note when the track is not in the visitor's language.
    lang_note: str = ""
    #: Without a transcript file: the script's paragraphs, shown instead.
    script: list[str] = msgspec.field(default_factory=list)
    #: A transcript is named in the config (a missing one is a notice, not silence).
    named_transcript: bool = False


class PlayerView(msgspec.Struct, kw_only=True):
    place: str
    tracks: list[TrackView]
    listen_url: str
    position_url: str
    autoplay_allowed: bool
    media_title: str
    media_album: str
    media_artist: str


def stamp(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


async def transcript(ctx: PluginContext, name: str) -> list[Cue]:
    """The cues of a transcript in the tour's media, parsed once per tour revision (a
    replaced transcript shows once the tour is saved again)."""

    async def read() -> list[Cue]:
        data = await ctx.read_media(name)
        return parse_vtt(data.decode("utf-8", errors="replace")) if data else []

    return await ctx.cached(("vtt", name), read)


def script_paragraphs(text: str) -> list[str]:
    """A script as the visitor reads it: its paragraphs, lines joined."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


async def _track_view(
    page: PageContext, place: str, track: Track, default: bool
) -> TrackView | None:
    """A track as the visitor's language shows it (nothing of the visitor in it)."""
    lang = track.lang_for(page.lang, page.tour.default_language)
    if lang is None:
        return None
    cues = await transcript(page, track.transcript_for(lang))
    script = [] if cues else script_paragraphs(track.script.get(lang, ""))
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
        slot=position_slot(place, track.id, lang),
        lang_note=note,
        script=script,
        named_transcript=lang in track.transcript,
    )


async def _player(
    page: PageContext, place: str, tracks: list[Track], default: str
) -> PlayerView | None:
    config: AudioGuideConfig = page.config
    found = await asyncio.gather(*(_track_view(page, place, t, t.id == default) for t in tracks))
    views = [v for v in found if v is not None]
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
        autoplay_allowed=config.autoplay_allowed and place not in (INTRO, OUTRO),
        media_title=album,
        media_album=page.text(tour.name),
        media_artist=page.text(tour.name),
    )


def _slot_value(name: str, positions: Mapping[str, Position], csrf: str) -> object:
    """The visitor's value of one slot of a player."""
    if name == CSRF_SLOT:
        return csrf
    kind, _, where = name.partition(".")
    position = positions.get(where)
    if position is None:
        return 0.0 if kind == "resume" else 0
    if kind == "resume":
        return round(position.seconds, 2)
    return int(position.updated.timestamp() * 1000)


async def _positions(page: PageContext) -> dict[str, Position]:
    """Where the visitor stopped in the tour's tracks: one store read (none for a
    browser new with this page: only its own player writes its positions)."""
    if not page.visitor or page.new_visitor:
        return {}
    record = await page.tour_store.get(positions_key(page.visitor), Positions)
    return record.tracks if record is not None else {}


async def _html(
    page: PageContext,
    key: str,
    template: str,
    values: Callable[[], Awaitable[dict[str, Any]]],
    *,
    fresh: bool,
) -> Markup:
    """``template`` rendered with ``values()`` and the visitor's slots filled: from the
    cached frame of this revision, place and language, or (``fresh``) directly."""
    positions = await _positions(page)
    csrf = page.csrf_token
    if fresh:

        def fill(name: str) -> Markup:
            return escape(_slot_value(name, positions, csrf))

        return page.render(template, **(await values()), slot=fill)

    async def build() -> str:
        return str(page.render(template, **(await values())))

    frame = await page.cached_frame(key, build)
    return frame.fill({name: _slot_value(name, positions, csrf) for name in frame.slots})


@hookimpl(specname="promtour_station_panels")
async def station_panel(page: PageContext, *, fresh: bool = False) -> Panel | None:
    config: AudioGuideConfig = page.config
    station = page.station
    audio = config.station(station.id) if station else None
    if station is None or audio is None or not audio.tracks:
        return None
    default = config.default_for(audio)

    async def values() -> dict[str, Any]:
        player = await _player(page, station.id, audio.tracks, default.id if default else "")
        return {"player": player}

    html = await _html(page, f"station.{station.id}", "audio_guide/panel.html", values, fresh=fresh)
    return Panel(title=page._("Listen"), html=html, order=10)


@hookimpl(specname="promtour_start_panels")
async def start_panel(page: PageContext, *, fresh: bool = False) -> Panel | None:
    config: AudioGuideConfig = page.config
    intro = config.intro
    has_cues = any(s.cues for s in config.stations)
    if intro is None and not has_cues:
        return None

    async def values() -> dict[str, Any]:
        tour = page.tour
        return {
            "player": await _player(page, INTRO, [intro], intro.id) if intro else None,
            "has_cues": has_cues,
            "show_url": page.url(f"{tour.enterprise}/{tour.id}/show"),
        }

    html = await _html(page, "start", "audio_guide/start.html", values, fresh=fresh)
    return Panel(title=page._("Audio guide"), html=html, order=10)


@hookimpl(specname="promtour_finish_panels")
async def finish_panel(page: PageContext, *, fresh: bool = False) -> Panel | None:
    config: AudioGuideConfig = page.config
    outro = config.outro
    credits = page.text(config.credits)
    if outro is None and not credits:
        return None

    async def values() -> dict[str, Any]:
        player = await _player(page, OUTRO, [outro], outro.id) if outro else None
        return {"player": player, "credits": credits}

    html = await _html(page, "finish", "audio_guide/finish.html", values, fresh=fresh)
    return Panel(title=page._("Audio guide"), html=html, order=10)
