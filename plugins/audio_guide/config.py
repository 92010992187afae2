"""The audio guide's per-tour config: tracks per station and language, cues, intro/outro.

A tour's ``[plugins.audio_guide]`` table is converted to :class:`AudioGuideConfig`
when the tour is saved; :func:`promtour.plugins.audio_guide.validate.check_config`
then checks it against the tour (stations, languages, media files).

Media names are paths relative to the tour's media folder (``"audio/press.ru.mp3"``).
A track's transcript is the WebVTT file named in ``transcript``, else the audio file's
name with ``.vtt`` if the tour has it, else its ``script`` text (no timings), else none.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from promtour.plugin import SLUG, Field, FieldAction, Text, pick_text

from .speech import render_speech

__all__ = [
    "AUDIO_FORMATS",
    "INTRO",
    "MIN_PIN_DIGITS",
    "OUTRO",
    "AudioGuideConfig",
    "StationAudio",
    "Track",
    "transcript_name",
]

Slug = Annotated[str, msgspec.Meta(pattern=SLUG)]

#: File extensions accepted for audio. MP3 is the baseline every phone plays (Safari
#: included); the others are accepted for tours that know their visitors' phones.
AUDIO_FORMATS: tuple[str, ...] = (".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus")

#: Places of the tour's intro and outro (station ids cannot start with "_").
INTRO = "_intro"
OUTRO = "_outro"

#: The shortest guide PIN accepted. Wrong PINs are limited per client address (see
#: :mod:`.access`): at most 100 tries a day from one address, so a 4-digit PIN holds
#: about 50 days on average against one address, a 6-digit one about 14 years.
MIN_PIN_DIGITS = 4


def transcript_name(audio: str) -> str:
    """The default transcript of an audio file: the same name with ``.vtt``."""
    stem, dot, _ = audio.rpartition(".")
    return f"{stem}.vtt" if dot else f"{audio}.vtt"


class Track(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One recording in several languages: a station's story, a cue, the intro."""

    id: Annotated[Slug, Field(title="Track code", help="Latin letters, digits and “-”, e.g. main.")]
    title: Annotated[Text, Field(title="Title")] = msgspec.field(default_factory=dict)
    #: Who wrote, voiced or recorded it; shown under the player.
    credits: Annotated[Text, Field(title="Credits")] = msgspec.field(default_factory=dict)
    #: Audio file per language code.
    audio: Annotated[dict[str, str], Field(title="Audio file", kind="media")] = msgspec.field(
        default_factory=dict
    )
    #: WebVTT transcript per language; default: the audio file's name with ``.vtt``.
    transcript: Annotated[
        dict[str, str],
        Field(
            title="Transcript (WebVTT)",
            kind="media",
            help="Optional. Empty: the audio file's name with .vtt if there is one, "
            "else visitors read the script.",
        ),
    ] = msgspec.field(default_factory=dict)
    #: Source text per language: «Озвучить» in the console and ``promtour audio render``
    #: speak it; a track without a transcript shows it to visitors instead.
    script: Annotated[
        Text,
        Field(
            title="Script",
            kind="text",
            help="The text to speak. Without a transcript, visitors read it under the player.",
            action=FieldAction(
                label="Render speech",
                run=render_speech,
                help="Makes the audio file and its transcript from the script, in each "
                "language that has one.",
                working="Rendering speech…",
            ),
        ),
    ] = msgspec.field(default_factory=dict)

    def languages(self) -> list[str]:
        return list(self.audio)

    def lang_for(self, lang: str, default: str) -> str | None:
        """The language to play for a visitor who reads ``lang``: theirs, else the
        tour's default, else the first there is."""
        for candidate in (lang, default):
            if candidate in self.audio:
                return candidate
        return next(iter(self.audio), None)

    def audio_for(self, lang: str) -> str:
        return self.audio[lang]

    def transcript_for(self, lang: str) -> str:
        """The transcript's file name: the named one, else the audio's name with .vtt
        (which the tour may not have: then the script is shown)."""
        return self.transcript.get(lang) or transcript_name(self.audio[lang])

    def title_in(self, lang: str, fallback: str = "") -> str:
        return pick_text(self.title, lang, fallback or self.id)


class StationAudio(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The audio of one station: its tracks (the visitor picks) and the guide's cues."""

    station: Annotated[Slug, Field(title="Station", kind="station")]
    tracks: Annotated[list[Track], Field(title="Tracks", item="Track")] = msgspec.field(
        default_factory=list
    )
    #: The track shown first; default: the tour's ``default_track``, else the first.
    default_track: Annotated[
        str, Field(title="Track shown first", help="A track code; empty: as for the tour.")
    ] = ""
    #: What a guide can fire at this station during a group show.
    cues: Annotated[list[Track], Field(title="Cues for the group show", item="Cue")] = (
        msgspec.field(default_factory=list)
    )

    def track(self, track_id: str) -> Track | None:
        return next((t for t in self.tracks if t.id == track_id), None)

    def cue(self, cue_id: str) -> Track | None:
        return next((c for c in self.cues if c.id == cue_id), None)


class AudioGuideConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``[plugins.audio_guide]`` of a tour."""

    #: Whether visitors may switch on "play each station when I scan it".
    autoplay_allowed: Annotated[
        bool, Field(title="Visitors may switch on autoplay at each station")
    ] = False
    #: Track id shown first at stations that have it (e.g. "main", "kids").
    default_track: Annotated[
        str, Field(title="Track shown first", help="A track code, e.g. main or kids.")
    ] = "main"
    #: Credits for the whole tour's audio, shown on the finish page.
    credits: Annotated[Text, Field(title="Credits of the tour's audio")] = msgspec.field(
        default_factory=dict
    )
    #: Played from the tour's start page.
    intro: Annotated[Track | None, Field(title="Introduction (start page)")] = None
    #: Played from the tour's finish page.
    outro: Annotated[Track | None, Field(title="Farewell (finish page)")] = None
    stations: Annotated[
        list[StationAudio], Field(title="Audio of the stations", item="Station audio")
    ] = msgspec.field(default_factory=list)
    #: The guide console's PIN (digits only, 4 to 12; 6 or more recommended). Empty:
    #: guides sign in with a guide token only. Changing it signs every guide out.
    guide_pin: Annotated[
        str,
        msgspec.Meta(pattern=rf"^(\d{{{MIN_PIN_DIGITS},12}})?$"),
        Field(title="Guide PIN", help="4 to 12 digits; empty: guides sign in with a token."),
    ] = ""
    #: Seconds between the guide's tap and the phones starting a cue: time for every
    #: phone to receive the cue and load its file.
    show_lead_seconds: Annotated[
        float,
        msgspec.Meta(ge=0.5, le=30),
        Field(title="Seconds between the guide's tap and the sound"),
    ] = 3.0

    def station(self, station_id: str) -> StationAudio | None:
        return next((s for s in self.stations if s.station == station_id), None)

    def track_at(self, place: str, track_id: str) -> Track | None:
        """A visitor's track at ``place`` (a station id, :data:`INTRO` or :data:`OUTRO`)."""
        if place in (INTRO, OUTRO):
            track = self.intro if place == INTRO else self.outro
            return track if track is not None and track.id == track_id else None
        station = self.station(place)
        return station.track(track_id) if station else None

    def cue(self, station_id: str, cue_id: str) -> Track | None:
        station = self.station(station_id)
        return station.cue(cue_id) if station else None

    def default_for(self, station: StationAudio) -> Track | None:
        """The track a station opens with."""
        for wanted in (station.default_track, self.default_track):
            track = station.track(wanted) if wanted else None
            if track is not None:
                return track
        return station.tracks[0] if station.tracks else None

    def all_tracks(self) -> list[tuple[str, str, Track]]:
        """Every recording as ``(place, kind, track)``: place is a station id or
        ``intro``/``outro``; kind is ``track``, ``cue``, ``intro`` or ``outro``."""
        found: list[tuple[str, str, Track]] = []
        if self.intro is not None:
            found.append(("intro", "intro", self.intro))
        if self.outro is not None:
            found.append(("outro", "outro", self.outro))
        for station in self.stations:
            found += [(station.station, "track", t) for t in station.tracks]
            found += [(station.station, "cue", c) for c in station.cues]
        return found
