"""Request and response bodies of the audio guide's routes (JSON or forms)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from ..records import Group, LastCue, LastMessage

__all__ = [
    "Accepted",
    "ControlForm",
    "FireCue",
    "Fired",
    "GroupStatus",
    "ListenReport",
    "MessageForm",
    "PinForm",
    "PositionReport",
    "ServerTime",
    "group_status",
]

Place = Annotated[str, msgspec.Meta(pattern=r"^(_intro|_outro|[a-z0-9][a-z0-9_-]{0,39})$")]
Id = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
Lang = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}$")]


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
    #: The cue's audio in the guide's language (the console reads its length).
    src: str = ""


class GroupStatus(msgspec.Struct, kw_only=True):
    code: str
    #: Phones connected to the show now, per language (not every phone that ever was).
    members: dict[str, int]
    total: int
    last_cue: LastCue | None = None
    #: The last cue's title and audio in the guide's language (for the now-playing bar).
    title: str = ""
    src: str = ""
    last_message: LastMessage | None = None


class PinForm(msgspec.Struct, kw_only=True):
    pin: Annotated[str, msgspec.Meta(max_length=64)] = ""


class ControlForm(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Pause, resume or stop the cue in progress for every phone of the group."""

    action: Literal["pause", "resume", "stop"]


class MessageForm(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A short text for every phone of the group."""

    text: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


def group_status(
    group: Group, counts: dict[str, int], title: str = "", src: str = ""
) -> GroupStatus:
    return GroupStatus(
        code=group.code,
        members=counts,
        total=sum(counts.values()),
        last_cue=group.last_cue,
        title=title,
        src=src,
        last_message=group.last_message,
    )
