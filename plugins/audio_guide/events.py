"""The audio guide's events: listening (started, quartiles, finished) and group cues.

Listening events carry the track id and the language it played in; the station (or
none, for the tour's intro and outro), the pseudonymous visitor and the group are in
the envelope. Other plugins (career, analytics) read them by their tags, which are
therefore part of the public interface: do not rename them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from promtour.plugin import Event

__all__ = [
    "EVENT_TYPES",
    "AudioCueFired",
    "AudioListenFinished",
    "AudioListenProgressed",
    "AudioListenStarted",
    "AudioShowControl",
    "AudioShowMessage",
]


class AudioListenStarted(Event, tag="audio_listen_started"):
    """A visitor started playing a track (once per listening session)."""

    track: str
    lang: str


class AudioListenProgressed(Event, tag="audio_listen_progressed"):
    """A visitor listened past a quarter (1), half (2) or three quarters (3) of a track."""

    track: str
    lang: str
    quartile: Annotated[int, msgspec.Meta(ge=1, le=3)]


class AudioListenFinished(Event, tag="audio_listen_finished"):
    """A visitor listened to a track to its end."""

    track: str
    lang: str


class AudioCueFired(Event, tag="audio_cue_fired"):
    """A guide fired a cue for a group: every phone of the group (``group`` in the
    envelope) plays the cue in its own language from ``start_at`` (server clock)."""

    cue: str
    start_at: datetime


class AudioShowControl(Event, tag="audio_show_control"):
    """A guide paused, resumed or stopped the group's cue in progress (``cue_event``:
    the id of its :class:`AudioCueFired`) for every phone of the group. ``start_at`` is
    when position zero of the file plays from now on: unchanged by a pause or a stop,
    moved on by a resume (the phones start again together, from where they paused)."""

    action: Literal["pause", "resume", "stop"]
    cue_event: str
    #: When it takes effect (server clock): at once for a pause or a stop, after the
    #: show's lead for a resume.
    at: datetime
    start_at: datetime


class AudioShowMessage(Event, tag="audio_show_message"):
    """A short text from the guide to every phone of the group (shown, not spoken)."""

    text: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


EVENT_TYPES: tuple[type[Event], ...] = (
    AudioListenStarted,
    AudioListenProgressed,
    AudioListenFinished,
    AudioCueFired,
    AudioShowControl,
    AudioShowMessage,
)
