"""Checking a tour's audio config against the tour: stations, languages, media files.

Every problem is a :class:`~promtour.plugin.Problem`: an English msgid with values
(translated by the console with this plugin's catalog) and the path of the field
(``stations[0].tracks[1].audio.ru``), which the console names as its form labels it
and the CLI prints as it is.
"""

from __future__ import annotations

from promtour.plugin import Problem, Tour, check_languages, check_station, check_unique, hookimpl

from .config import AUDIO_FORMATS, AudioGuideConfig, Track

__all__ = ["check_config"]


def _check_track(
    where: str, track: Track, tour: Tour, media: frozenset[str], errors: list[Problem]
) -> None:
    if not track.audio:
        errors.append(
            Problem(path=f"{where}.audio", message="No audio file: give one per language.")
        )
    for lang, name in track.audio.items():
        key = f"{where}.audio.{lang}"
        if unknown := check_languages([lang], tour.languages, key):
            errors += unknown
            continue
        suffix = "." + name.rpartition(".")[2].lower() if "." in name else ""
        if suffix not in AUDIO_FORMATS:
            errors.append(
                Problem(
                    path=key,
                    message="{file} is not a supported audio format ({formats}).",
                    values={"file": name, "formats": ", ".join(AUDIO_FORMATS)},
                )
            )
            continue
        if name not in media:
            errors.append(
                Problem(
                    path=key,
                    message="The file {file} is not among the tour's media: upload it.",
                    values={"file": name},
                )
            )
            continue
        transcript = track.transcript_for(lang)
        if not transcript.lower().endswith(".vtt"):
            errors.append(
                Problem(
                    path=f"{where}.transcript.{lang}",
                    message="{file} is not a WebVTT transcript (.vtt).",
                    values={"file": transcript},
                )
            )
        elif transcript not in media and lang in track.transcript:
            errors.append(
                Problem(
                    path=f"{where}.transcript.{lang}",
                    message="The transcript {file} of {audio} is missing: upload it, or "
                    "choose none (then visitors read the script).",
                    values={"file": transcript, "audio": name},
                )
            )
        elif transcript not in media:
            # No transcript named and none beside the audio: accepted (the player shows
            # the script). A note, not a refusal, so that a transcript found by its
            # name beside the audio counts as used and is not deleted by mistake.
            errors.append(
                Problem(
                    path=f"{where}.transcript.{lang}",
                    message="{audio} has no transcript: visitors read the script instead.",
                    values={"audio": name},
                    blocking=False,
                )
            )
    for lang in track.transcript:
        if lang not in track.audio:
            errors.append(
                Problem(
                    path=f"{where}.transcript.{lang}",
                    message="There is no audio in “{lang}” for this transcript.",
                    values={"lang": lang},
                )
            )


@hookimpl(specname="promtour_validate_config")
def check_config(tour: Tour, config: AudioGuideConfig, media: frozenset[str]) -> list[Problem]:
    """All problems of ``config`` for ``tour`` (empty: accepted)."""
    errors: list[Problem] = []
    if config.intro is not None:
        _check_track("intro", config.intro, tour, media, errors)
    if config.outro is not None:
        _check_track("outro", config.outro, tour, media, errors)
    seen_stations: set[str] = set()
    for index, station in enumerate(config.stations):
        place = f"stations[{index}]"
        if unknown := check_station(tour, station.station, f"{place}.station"):
            errors += unknown
            continue
        if station.station in seen_stations:
            errors.append(
                Problem(
                    path=f"{place}.station",
                    message="The station {station} is listed twice.",
                    values={"station": station.station},
                )
            )
        seen_stations.add(station.station)
        errors += check_unique([t.id for t in station.tracks], f"{place}.tracks")
        errors += check_unique([c.id for c in station.cues], f"{place}.cues")
        if station.default_track and station.track(station.default_track) is None:
            errors.append(
                Problem(
                    path=f"{place}.default_track",
                    message="The station has no track {track}.",
                    values={"track": station.default_track},
                )
            )
        for t, track in enumerate(station.tracks):
            _check_track(f"{place}.tracks[{t}]", track, tour, media, errors)
        for q, cue in enumerate(station.cues):
            _check_track(f"{place}.cues[{q}]", cue, tour, media, errors)
    return errors
