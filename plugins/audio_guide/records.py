"""What the audio guide keeps: listening positions and group shows, per tour.

Every record belongs to one tour and lives in the tour's store (``ctx.tour_store``),
which the core erases when the tour drops the audio guide or is deleted. Keys:

- ``pos.<visitor>``: where a visitor stopped, in every track of the tour
  (:class:`Positions`): one record per visitor, so a station page reads one key
  whatever the number of tracks it offers.
- ``group.<CODE>``: a group show: its last cue (paused, stopped) and last message,
  written by the guide only. Phones are not recorded: a record written per joining
  phone made a burst of joins fail (issue 17); they are counted live (:mod:`.presence`).
- ``presence.<CODE>.<process>``: a worker process's count of a group's phones, a
  heartbeat with a time-to-live (:mod:`.presence`).
- ``groups``: the tour's recent groups, for the guide console.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import msgspec
from promtour.plugin import PluginStore, utcnow

__all__ = [
    "GROUP_ALPHABET",
    "GROUP_TTL",
    "Group",
    "GroupIndex",
    "GroupRef",
    "LastCue",
    "LastMessage",
    "Position",
    "Positions",
    "create_group",
    "get_group",
    "get_group_shared",
    "list_groups",
    "position_slot",
    "positions_key",
    "recent_since",
    "set_last_cue",
    "set_message",
    "update_last_cue",
]

#: Letters and digits that cannot be confused when read aloud or typed (no 0/O, 1/I).
GROUP_ALPHABET = "ACDEFHJKLMNPRTUVWXY3479"
GROUP_CODE_LENGTH = 4
#: A group older than this is over: its code may be given out again.
GROUP_TTL = timedelta(hours=12)
#: What the core accepts as a group code (letters and digits here: KV-key safe).
_CODE = re.compile(r"[A-Za-z0-9]{2,16}")


class Position(msgspec.Struct, kw_only=True):
    """Where a visitor stopped in a track."""

    seconds: float
    duration: float = 0.0
    updated: datetime = msgspec.field(default_factory=utcnow)


class Positions(msgspec.Struct, kw_only=True):
    """A visitor's positions in a tour's tracks, by :func:`position_slot`."""

    tracks: dict[str, Position] = msgspec.field(default_factory=dict)


class LastCue(msgspec.Struct, kw_only=True):
    #: The id of the cue's :class:`~.events.AudioCueFired`.
    event: str
    station: str
    cue: str
    #: When position zero of the file plays (server clock); moved on by a resume.
    start_at: datetime
    fired: datetime
    #: Paused for everyone at this moment (the position is ``paused_at - start_at``).
    paused_at: datetime | None = None
    #: Stopped for everyone at this moment: over.
    stopped_at: datetime | None = None


class LastMessage(msgspec.Struct, kw_only=True):
    text: str
    sent: datetime


class Group(msgspec.Struct, kw_only=True):
    code: str
    created: datetime = msgspec.field(default_factory=utcnow)
    last_cue: LastCue | None = None
    last_message: LastMessage | None = None

    @property
    def expired(self) -> bool:
        return utcnow() - self.created > GROUP_TTL


class GroupRef(msgspec.Struct, kw_only=True):
    code: str
    created: datetime


class GroupIndex(msgspec.Struct, kw_only=True):
    groups: list[GroupRef] = msgspec.field(default_factory=list)


def positions_key(visitor: str) -> str:
    return f"pos.{visitor}"


def position_slot(place: str, track: str, lang: str) -> str:
    """Where one track's position is kept in a visitor's :class:`Positions` (also a
    valid name of a render slot: letters, digits, ``_-:``)."""
    return f"{place}:{track}:{lang}"


def _group_key(code: str) -> str:
    return f"group.{code}"


INDEX_KEY = "groups"


def new_code() -> str:
    return "".join(secrets.choice(GROUP_ALPHABET) for _ in range(GROUP_CODE_LENGTH))


async def create_group(store: PluginStore) -> Group:
    """A new group with a fresh short code (an expired group's code may be reused)."""
    for _ in range(50):
        group = Group(code=new_code())
        key = _group_key(group.code)
        if not await store.create(key, group):
            old = await store.get(key, Group)
            if old is not None and not old.expired:
                continue
            await store.put(key, group)
        break
    else:  # pragma: no cover - 280 000 codes per tour
        raise RuntimeError("no free group code")

    def add(index: GroupIndex | None) -> GroupIndex:
        index = index or GroupIndex()
        fresh = [g for g in index.groups if utcnow() - g.created <= GROUP_TTL]
        fresh = [g for g in fresh if g.code != group.code]
        index.groups = [*fresh, GroupRef(code=group.code, created=group.created)][-50:]
        return index

    await store.update(INDEX_KEY, GroupIndex, add)
    return group


async def get_group(store: PluginStore, code: str) -> Group | None:
    """An open group, or None for an unknown or expired code."""
    if not _CODE.fullmatch(code or ""):
        return None
    group = await store.get(_group_key(code.upper()), Group)
    if group is None or group.expired:
        return None
    return group


#: How long a group read is shared by the show streams of a process.
SHARED_READ_SECONDS = 1.0
_shared: dict[tuple[str, str], tuple[float, asyncio.Task[Group | None]]] = {}


async def get_group_shared(store: PluginStore, code: str) -> Group | None:
    """:func:`get_group`, one read per group and process per second, shared by every
    stream opened meanwhile: a class of phones joining at once is one read, not one
    request each that the server must answer before its timeout."""
    slot = (store.prefix, code.upper())
    now = time.monotonic()
    held = _shared.get(slot)
    if held is None or held[0] < now or (held[1].done() and held[1].exception()):
        if len(_shared) > 1000:
            for key in [k for k, (until, _) in _shared.items() if until < now]:
                del _shared[key]
        task = asyncio.ensure_future(get_group(store, code))
        held = _shared[slot] = (now + SHARED_READ_SECONDS, task)
    # shield: one stream that is cancelled must not cancel the read of the others.
    return await asyncio.shield(held[1])


async def list_groups(store: PluginStore) -> list[GroupRef]:
    index = await store.get(INDEX_KEY, GroupIndex)
    if index is None:
        return []
    return [g for g in reversed(index.groups) if utcnow() - g.created <= GROUP_TTL]


async def set_last_cue(store: PluginStore, code: str, cue: LastCue) -> None:
    def change(current: Group | None) -> Group:
        current = current or Group(code=code)
        if current.last_cue is None or current.last_cue.start_at <= cue.start_at:
            current.last_cue = cue
        return current

    await store.update(_group_key(code), Group, change)


async def update_last_cue(
    store: PluginStore, code: str, change: Callable[[LastCue], None]
) -> Group:
    """Change the group's last cue (pause, resume, stop) in place."""

    def apply(current: Group | None) -> Group:
        current = current or Group(code=code)
        if current.last_cue is not None:
            change(current.last_cue)
        return current

    return await store.update(_group_key(code), Group, apply)


async def set_message(store: PluginStore, code: str, message: LastMessage) -> None:
    def change(current: Group | None) -> Group:
        current = current or Group(code=code)
        current.last_message = message
        return current

    await store.update(_group_key(code), Group, change)


def recent_since(group: Group, now: datetime, margin: float = 5.0) -> datetime:
    """Where a phone's cue stream starts: just before the group's last cue (so a late
    joiner gets the cue in progress), else just before now."""
    if group.last_cue is not None:
        return min(group.last_cue.fired, now) - timedelta(seconds=margin)
    return now - timedelta(seconds=margin)
