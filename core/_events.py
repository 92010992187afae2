"""Events: msgspec Structs in a tagged union, JSON on ``promtour.ev.<enterprise>.<tour>.<type>``.

Every event carries the same envelope (the fields of :class:`Event`). Plugins add their
own types by subclassing :class:`Event` with a ``tag`` and listing the class in their
``PluginInfo.events``. Events never hold personal data: a visitor is a
pseudonymous id, a career lead an opaque lead id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Self, Union

import msgspec
from promtour._models import utcnow

__all__ = [
    "STREAM",
    "SUBJECT_PREFIX",
    "Event",
    "EventRegistry",
    "PluginEventFailed",
    "TourFinished",
    "VisitorCheckedIn",
    "VisitorJoinedGroup",
    "new_event_id",
    "subject_for",
    "tag_of",
]

STREAM = "PROMTOUR_EVENTS"
SUBJECT_PREFIX = "promtour.ev"
SCHEMA_VERSION = 1


def new_event_id() -> str:
    return uuid.uuid4().hex


class Event(msgspec.Struct, kw_only=True, tag_field="type"):
    """The envelope every event carries."""

    id: str = msgspec.field(default_factory=new_event_id)
    enterprise: str
    tour: str
    station: str | None = None
    #: Pseudonymous visitor id (from the signed cookie), never a name.
    visitor: str | None = None
    group: str | None = None
    time: datetime = msgspec.field(default_factory=utcnow)
    v: int = SCHEMA_VERSION

    @property
    def type(self) -> str:
        return type(self).__struct_config__.tag  # type: ignore[return-value]

    @property
    def subject(self) -> str:
        return subject_for(self.enterprise, self.tour, self.type)

    def with_(self, **changes: Any) -> Self:
        return msgspec.structs.replace(self, **changes)


def tag_of(event_type: type[Any]) -> str:
    """The tag of an event type (``"visitor_checked_in"``): its ``type`` and the last
    token of its subject."""
    tag = getattr(getattr(event_type, "__struct_config__", None), "tag", None)
    if not isinstance(tag, str):
        name = getattr(event_type, "__name__", repr(event_type))
        raise TypeError(f"{name} needs a string tag to be an event type")
    return tag


def subject_for(enterprise: str, tour: str, event_type: str) -> str:
    return f"{SUBJECT_PREFIX}.{enterprise}.{tour}.{event_type}"


class VisitorCheckedIn(Event, tag="visitor_checked_in"):
    """A visitor scanned a station's code (or typed its number)."""

    #: ``qr`` for a scanned code, ``number`` for a typed station number.
    method: str = "qr"
    #: True when this visitor had checked in at this station before.
    repeat: bool = False
    lang: str = ""


class VisitorJoinedGroup(Event, tag="visitor_joined_group"):
    """A visitor joined a group (a school class, a guided party) by its code."""


class TourFinished(Event, tag="tour_finished"):
    """A visitor opened the tour's finish page for the first time."""

    stations_visited: int = 0


class PluginEventFailed(Event, tag="plugin_event_failed"):
    """A plugin's handler kept failing on an event; the message was terminated."""

    plugin: str
    failed_event_id: str
    failed_type: str
    deliveries: int
    error: str


CORE_EVENT_TYPES: tuple[type[Event], ...] = (
    VisitorCheckedIn,
    VisitorJoinedGroup,
    TourFinished,
    PluginEventFailed,
)


class EventRegistry:
    """The known event types, and one decoder for their union."""

    def __init__(self, types: Iterable[type[Event]] = CORE_EVENT_TYPES) -> None:
        self._types: dict[str, type[Event]] = {}
        self._decoder: msgspec.json.Decoder[Any] | None = None
        self.register(*types)

    def register(self, *types: type[Event]) -> None:
        for cls in types:
            tag = tag_of(cls)
            known = self._types.get(tag)
            if known is not None and known is not cls:
                raise ValueError(f"event type {tag!r} registered twice ({known} and {cls})")
            self._types[tag] = cls
        self._decoder = None

    @property
    def types(self) -> dict[str, type[Event]]:
        return dict(self._types)

    def decode(self, data: bytes) -> Event:
        """Decode an event; raises ``msgspec.ValidationError`` for an unknown type."""
        if self._decoder is None:
            union = Union[tuple(self._types.values())]  # type: ignore[valid-type]  # noqa: UP007
            self._decoder = msgspec.json.Decoder(union)
        event: Event = self._decoder.decode(data)
        return event


encode = msgspec.json.Encoder().encode
