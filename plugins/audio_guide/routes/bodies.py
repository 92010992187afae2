"""Request and response bodies of the audio guide's routes (JSON or forms)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from ..records import Group, LastCue

__all__ = [
    "Accepted",
    "FireCue",
    "Fired",
    "GroupStatus",
    "ListenReport",
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


class GroupStatus(msgspec.Struct, kw_only=True):
    code: str
    #: Phones on the show page per language.
    members: dict[str, int]
    total: int
    last_cue: LastCue | None = None


class PinForm(msgspec.Struct, kw_only=True):
    pin: Annotated[str, msgspec.Meta(max_length=64)] = ""


def group_status(group: Group) -> GroupStatus:
    counts = group.counts()
    return GroupStatus(
        code=group.code, members=counts, total=sum(counts.values()), last_cue=group.last_cue
    )
