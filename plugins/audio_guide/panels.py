"""The visitor's panels: the station player, the intro on the start page, the outro.

Everything a player needs is rendered into the page: the audio URL, the transcript
(from the WebVTT file, so it is there without JavaScript and for screen readers),
and where the visitor stopped last time (from the plugin store). The JavaScript only
adds the custom controls, the highlight, resume and the listening reports.

The station panel is on every scan, so it is cheap: its markup depends on the visitor
only through the CSRF token and the resume positions, so it is rendered once per tour
version, station and language (with markers where those go), cut at the markers and
kept (:class:`_Cached`); a scan reads the visitor's positions (one KV entry for the
whole tour) and joins the pieces. The page is the same as a fresh render's.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

import msgspec
from markupsafe import Markup, escape
from promtour.context import PageContext, PluginContext
from promtour.plugin import Panel

from .config import AudioGuideConfig, Track
from .records import Position, Positions, position_slot, positions_key
from .vtt import Cue, parse_vtt

__all__ = ["PlayerView", "TrackView", "finish_panel", "start_panel", "station_panel", "transcript"]

#: Seconds a parsed transcript is reused before it is read again from the media store.
TRANSCRIPT_TTL = 30.0
_transcripts: dict[str, tuple[float, list[Cue]]] = {}

#: Places of the tour's intro and outro (station ids cannot start with "_").
INTRO = "_intro"
OUTRO = "_outro"

#: Station panels kept (tour versions x stations x languages) before the cache is emptied.
PANEL_CACHE_SIZE = 512
#: Where a per-visitor value goes in a cached panel: a NUL byte cannot come out of a
#: template's escaping or the tour's texts in a way that collides with a random token.
_SLOT = f"\x00ag-{secrets.token_hex(8)}\x00"


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
    #: Seconds (a str only as a marker while a cached panel is rendered).
    resume: float | str = 0.0
    #: When the resume position was saved, milliseconds since the epoch.
    resume_at: int | str = 0


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


class _Cached(msgspec.Struct, kw_only=True):
    """A station panel without its visitor: ``parts`` around the CSRF token, then each
    track's resume seconds and time (``slots``: the tracks' position slots)."""

    #: The config it was rendered from: held so that its id is not reused.
    config: Any
    revision: int
    #: Monotonic time after which a transcript may have changed in the media store.
    expires: float
    title: str
    parts: list[str] | None
    slots: list[str]


_panels: dict[tuple[int, int, str, str], _Cached] = {}
_building: dict[tuple[int, int, str, str], asyncio.Future[_Cached]] = {}


def stamp(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


async def _transcript(ctx: PluginContext, name: str) -> tuple[float, list[Cue]]:
    """The cues of a transcript and when they were read (cached for a short while)."""
    key = f"{ctx.tour.enterprise}/{ctx.tour.id}/{name}"
    cached = _transcripts.get(key)
    now = time.monotonic()
    if cached is not None and now - cached[0] < TRANSCRIPT_TTL:
        return cached
    data = await ctx.read_media(name)
    cues = parse_vtt(data.decode("utf-8", errors="replace")) if data else []
    if len(_transcripts) > 1000:
        _transcripts.clear()
    _transcripts[key] = (now, cues)
    return now, cues


async def transcript(ctx: PluginContext, name: str) -> list[Cue]:
    """The cues of a transcript in the tour's media (cached for a short while)."""
    return (await _transcript(ctx, name))[1]


async def _positions(page: PageContext) -> dict[str, Position]:
    """Where the visitor stopped in the tour's tracks: one KV read."""
    if not page.visitor:
        return {}
    record = await page.store.get(positions_key(page.tour, page.visitor), Positions)
    return record.tracks if record is not None else {}


def _resume(position: Position | None) -> tuple[float, int]:
    if position is None:
        return 0.0, 0
    return round(position.seconds, 2), int(position.updated.timestamp() * 1000)


async def _track_view(
    page: PageContext, place: str, track: Track, default: bool
) -> tuple[float, TrackView] | None:
    """A track as the visitor's language shows it, without resume, and when its
    transcript was read."""
    lang = track.lang_for(page.lang, page.tour.default_language)
    if lang is None:
        return None
    read, cues = await _transcript(page, track.transcript_for(lang))
    note = ""
    if lang != page.lang:
        note = page._("This recording is not available in your language yet.")
    return read, TrackView(
        id=track.id,
        dom_id=f"ag-{place.strip('_')}-{track.id}",
        title=track.title_in(page.lang),
        lang=lang,
        src=page.media_url(track.audio_for(lang)),
        cues=[CueView(start=c.start, end=c.end, stamp=stamp(c.start), text=c.text) for c in cues],
        credits=page.text(track.credits),
        default=default,
        lang_note=note,
    )


async def _layout(
    page: PageContext, place: str, tracks: list[Track], default: str
) -> tuple[float, PlayerView | None]:
    """The player without the visitor (no CSRF token, no resume), and the oldest time
    one of its transcripts was read (``inf`` when it has none)."""
    config: AudioGuideConfig = page.config
    found = await asyncio.gather(*(_track_view(page, place, t, t.id == default) for t in tracks))
    views = [v for _, v in (f for f in found if f is not None)]
    read = min((r for r, _ in (f for f in found if f is not None)), default=float("inf"))
    if not views:
        return read, None
    if not any(v.default for v in views):
        views[0].default = True
    tour = page.tour
    base = f"{tour.enterprise}/{tour.id}"
    album = page.text(page.station.name) if page.station else page.text(tour.name)
    return read, PlayerView(
        place=place,
        tracks=views,
        listen_url=page.url(f"{base}/listen"),
        position_url=page.url(f"{base}/position"),
        csrf="",
        autoplay_allowed=config.autoplay_allowed and place not in (INTRO, OUTRO),
        media_title=album,
        media_album=page.text(tour.name),
        media_artist=page.text(tour.name),
    )


def _for_visitor(player: PlayerView, positions: dict[str, Position], csrf: str) -> PlayerView:
    tracks = []
    for view in player.tracks:
        resume, resume_at = _resume(positions.get(position_slot(player.place, view.id, view.lang)))
        tracks.append(msgspec.structs.replace(view, resume=resume, resume_at=resume_at))
    return msgspec.structs.replace(player, tracks=tracks, csrf=csrf)


async def _player(page: PageContext, place: str, tracks: list[Track], default: str) -> Any:
    _, player = await _layout(page, place, tracks, default)
    if player is None:
        return None
    return _for_visitor(player, await _positions(page), page.csrf_token)


def _revision(page: PageContext) -> int:
    state = getattr(page, "_tour_state", None)
    return int(getattr(state, "revision", 0) or 0)


async def _cached_panel(page: PageContext, station: str, audio: Any) -> _Cached:
    """The station's panel for the page's language, rendered without the visitor."""
    config: AudioGuideConfig = page.config
    key = (id(config), _revision(page), station, page.lang)
    cached = _panels.get(key)
    now = time.monotonic()
    if cached is not None and cached.config is config and now < cached.expires:
        return cached
    # Scans that arrive while the panel is being rendered wait for that one rendering
    # (after a tour save or a transcript's expiry, not one per concurrent visitor).
    building = _building.get(key)
    if building is None or building.get_loop() is not asyncio.get_running_loop():
        building = asyncio.ensure_future(_build_panel(page, key, station, audio))
        _building[key] = building
        building.add_done_callback(
            lambda done: _building.pop(key) if _building.get(key) is done else None
        )
    return await asyncio.shield(building)


async def _build_panel(
    page: PageContext, key: tuple[int, int, str, str], station: str, audio: Any
) -> _Cached:
    config: AudioGuideConfig = page.config
    default = config.default_for(audio)
    read, player = await _layout(page, station, audio.tracks, default.id if default else "")
    parts: list[str] | None = None
    slots: list[str] = []
    if player is not None:
        slots = [position_slot(station, t.id, t.lang) for t in player.tracks]
        marked = msgspec.structs.replace(
            player,
            csrf=_SLOT,
            tracks=[
                msgspec.structs.replace(t, resume=_SLOT, resume_at=_SLOT) for t in player.tracks
            ],
        )
        html = str(page.render("audio_guide/panel.html", player=marked))
        parts = html.split(_SLOT)
        if len(parts) != 2 + 2 * len(slots):  # pragma: no cover - the template changed
            page.log.warning("audio_guide: station panel not cacheable, rendered per scan")
            parts = None
    cached = _Cached(
        config=config,
        revision=key[1],
        expires=read + TRANSCRIPT_TTL,
        title=page._("Listen"),
        parts=parts,
        slots=slots,
    )
    if len(_panels) >= PANEL_CACHE_SIZE:
        _panels.clear()
    _panels[key] = cached
    return cached


async def station_panel(page: PageContext) -> Panel | None:
    config: AudioGuideConfig = page.config
    if page.station is None:
        return None
    audio = config.station(page.station.id)
    if audio is None or not audio.tracks:
        return None
    cached = await _cached_panel(page, page.station.id, audio)
    if not cached.slots:
        return None
    if cached.parts is None:  # pragma: no cover - see _cached_panel
        default = config.default_for(audio)
        player = await _player(page, page.station.id, audio.tracks, default.id if default else "")
        html = page.render("audio_guide/panel.html", player=player)
        return Panel(title=cached.title, html=html, order=10)
    positions = await _positions(page)
    parts = cached.parts
    out = [parts[0], str(escape(page.csrf_token)), parts[1]]
    for index, slot in enumerate(cached.slots):
        resume, resume_at = _resume(positions.get(slot))
        out += [str(resume), parts[2 + 2 * index], str(resume_at), parts[3 + 2 * index]]
    return Panel(title=cached.title, html=Markup("".join(out)), order=10)


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
