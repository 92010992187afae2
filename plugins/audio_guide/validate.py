"""Checking a tour's audio config against the tour: stations, languages, media files.

Every message names where the problem is (station, track or cue, the key and the
language) so that the person importing the tour can fix it without guessing.
"""

from __future__ import annotations

from promtour.plugin import Tour

from .config import AUDIO_FORMATS, AudioGuideConfig, Track

__all__ = ["check_config"]


def _check_track(
    where: str, track: Track, tour: Tour, media: frozenset[str], errors: list[str]
) -> None:
    languages = ", ".join(tour.languages)
    if not track.audio:
        errors.append(f"{where}: audio: no audio file (give one per language, e.g. audio.ru)")
    for lang, name in track.audio.items():
        key = f"{where}, audio.{lang}"
        if lang not in tour.languages:
            errors.append(f"{key}: {lang!r} is not one of the tour's languages ({languages})")
            continue
        suffix = "." + name.rpartition(".")[2].lower() if "." in name else ""
        if suffix not in AUDIO_FORMATS:
            formats = ", ".join(AUDIO_FORMATS)
            errors.append(f"{key}: {name!r} is not a supported audio format ({formats})")
            continue
        if name not in media:
            errors.append(f"{key}: file {name!r} is not in the tour's media folder")
            continue
        transcript = track.transcript_for(lang)
        if not transcript.lower().endswith(".vtt"):
            errors.append(f"{where}, transcript.{lang}: {transcript!r} is not a WebVTT file (.vtt)")
        elif transcript not in media:
            errors.append(
                f"{where}, transcript.{lang}: file {transcript!r} is not in the tour's media "
                "folder (every audio file needs its WebVTT transcript)"
            )
    for lang in track.transcript:
        if lang not in track.audio:
            errors.append(
                f"{where}, transcript.{lang}: there is no audio in {lang!r} for this transcript"
            )


def _unique(where: str, ids: list[str], what: str, errors: list[str]) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            errors.append(f"{where}: {what} id {item!r} appears twice")
        seen.add(item)


def check_config(tour: Tour, config: AudioGuideConfig, media: frozenset[str]) -> list[str]:
    """All problems of ``config`` for ``tour`` (empty: accepted)."""
    errors: list[str] = []
    station_ids = {s.id for s in tour.stations}
    if config.intro is not None:
        _check_track(f"intro {config.intro.id!r}", config.intro, tour, media, errors)
    if config.outro is not None:
        _check_track(f"outro {config.outro.id!r}", config.outro, tour, media, errors)
    seen_stations: set[str] = set()
    for station in config.stations:
        place = f"station {station.station!r}"
        if station.station not in station_ids:
            errors.append(f"{place}: the tour has no such station")
            continue
        if station.station in seen_stations:
            errors.append(f"{place}: listed twice under stations")
        seen_stations.add(station.station)
        _unique(place, [t.id for t in station.tracks], "track", errors)
        _unique(place, [c.id for c in station.cues], "cue", errors)
        if station.default_track and station.track(station.default_track) is None:
            errors.append(
                f"{place}, default_track: the station has no track {station.default_track!r}"
            )
        for track in station.tracks:
            _check_track(f"{place}, track {track.id!r}", track, tour, media, errors)
        for cue in station.cues:
            _check_track(f"{place}, cue {cue.id!r}", cue, tour, media, errors)
    return errors
