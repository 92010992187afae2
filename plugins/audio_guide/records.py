"""What the audio guide keeps: listening positions and group shows, per tour.

Every record belongs to one tour and lives in the tour's store (``ctx.tour_store``),
which the core erases when the tour drops the audio guide or is deleted. Keys:

- ``pos.<visitor>``: where a visitor stopped, in every track of the tour
  (:class:`Positions`): one record per visitor, so a station page reads one key
  whatever the number of tracks it offers.
- ``group.<CODE>``: a group show: its phones (visitor -> language) and the last cue.
- ``groups``: the tour's recent groups, for the guide console.
"""

from __future__ import annotations

import re
import secrets
from collections import Counter
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
    "Position",
    "Positions",
    "create_group",
    "get_group",
    "list_groups",
    "note_member",
    "position_slot",
    "positions_key",
    "recent_since",
    "set_last_cue",
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
    event: str
    station: str
    cue: str
    start_at: datetime
    fired: datetime


class Group(msgspec.Struct, kw_only=True):
    code: str
    created: datetime = msgspec.field(default_factory=utcnow)
    #: Phones that opened the show: pseudonymous visitor id -> language.
    members: dict[str, str] = msgspec.field(default_factory=dict)
    last_cue: LastCue | None = None

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(self.members.values()).items()))

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


async def list_groups(store: PluginStore) -> list[GroupRef]:
    index = await store.get(INDEX_KEY, GroupIndex)
    if index is None:
        return []
    return [g for g in reversed(index.groups) if utcnow() - g.created <= GROUP_TTL]


async def note_member(store: PluginStore, group: Group, visitor: str, lang: str) -> Group:
    """Count a phone in a group, in its language (a no-op when nothing changed)."""
    if group.members.get(visitor) == lang:
        return group

    def add(current: Group | None) -> Group:
        current = current or group
        current.members[visitor] = lang
        return current

    return await store.update(_group_key(group.code), Group, add)


async def set_last_cue(store: PluginStore, code: str, cue: LastCue) -> None:
    def change(current: Group | None) -> Group:
        current = current or Group(code=code)
        if current.last_cue is None or current.last_cue.start_at <= cue.start_at:
            current.last_cue = cue
        return current

    await store.update(_group_key(code), Group, change)


def recent_since(group: Group, now: datetime, margin: float = 5.0) -> datetime:
    """Where a phone's cue stream starts: just before the group's last cue (so a late
    joiner gets the cue in progress), else just before now."""
    if group.last_cue is not None:
        return min(group.last_cue.fired, now) - timedelta(seconds=margin)
    return now - timedelta(seconds=margin)
