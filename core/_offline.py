"""Offline tours: what a phone saves, and replaying what it queued, exactly once.

A visitor saves a tour while the signal is good; on the factory floor the service
worker (``core/_web/static/sw.js``) answers from that copy and queues the check-ins and
answers in IndexedDB, each with a stable *action id* and the time it happened. Back
online it replays them in order with ``Idempotency-Key: <action id>`` and
``X-Promtour-Action-Time``.

JetStream de-duplicates a message id for two minutes only, and a phone may come back
hours later. So every replayed action leaves an idempotency record in KV
(:data:`BUCKET_ACTIONS`, one key per visitor and action id, kept as long as a replay is
accepted), claimed before the request runs and marked done after it: a second replay
finds the record and changes nothing. The check-in's event id is derived from the
action id as well, so a replay within the JetStream window is also de-duplicated there
(that covers a process that died between publishing and marking its record done).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Any

import msgspec
import nats.js.errors
from promtour._bus import Bus
from promtour._models import Tour, utcnow

__all__ = [
    "ACTION_ID",
    "BUCKET_ACTIONS",
    "ActionRecord",
    "OfflineFile",
    "OfflineManifest",
    "ReplayRefused",
    "claim_action",
    "finish_action",
    "media_for_language",
    "replay_time",
    "tour_pages",
]

BUCKET_ACTIONS = "PROMTOUR_ACTIONS"
#: A queued action's id: made by the phone (random, 64 to 128 bits, hex).
ACTION_ID = re.compile(r"^[0-9a-f]{16,64}$")
#: A claimed action whose request never finished (a process died) may be run again
#: after this many seconds.
PENDING_SECONDS = 30.0
#: Clocks of phones drift: a scan time up to this far in the future is accepted as now.
CLOCK_SKEW = timedelta(minutes=2)

_record_decoder = msgspec.json.Decoder(None)


class ReplayRefused(Exception):
    """A replayed action that may not be accepted (too old, from the future, bad id)."""


class ActionRecord(msgspec.Struct, kw_only=True):
    """The idempotency record of one queued action."""

    state: str  # "pending" or "done"
    status: int = 0
    claimed: datetime = msgspec.field(default_factory=utcnow)


class OfflineFile(msgspec.Struct, kw_only=True):
    url: str
    bytes: int
    kind: str  # "page", "asset", "media"


class OfflineManifest(msgspec.Struct, kw_only=True):
    """What a phone stores to run a tour without signal, in one language."""

    tour: str
    lang: str
    revision: int
    files: list[OfflineFile]
    total_bytes: int


def replay_time(sent: str | None, *, max_age_hours: float, now: datetime | None = None) -> datetime:
    """The original time of a replayed action, within bounds: not in the future (beyond
    :data:`CLOCK_SKEW`, else it is now), not older than ``max_age_hours`` (the tour day).
    No time sent: now."""
    now = now or utcnow()
    if not sent:
        return now
    try:
        when = msgspec.convert(sent, datetime)
    except msgspec.ValidationError:
        raise ReplayRefused("the action's time is not a date and time") from None
    if when.tzinfo is None:
        raise ReplayRefused("the action's time has no time zone")
    if when > now + CLOCK_SKEW:
        raise ReplayRefused("the action's time is in the future")
    if when < now - timedelta(hours=max_age_hours):
        raise ReplayRefused("this action is too old to be recorded now")
    return min(when, now)


def _key(visitor: str, action: str) -> str:
    # The visitor is part of the key: one phone's ids never collide with another's.
    return hashlib.sha256(f"{visitor}:{action}".encode()).hexdigest()


async def _bucket(bus: Bus, max_age_hours: float) -> Any:
    # Kept a little longer than a replay is accepted, then NATS drops the record.
    return await bus.bucket(BUCKET_ACTIONS, ttl=(max_age_hours + 1) * 3600)


async def claim_action(
    bus: Bus, visitor: str, action: str, *, max_age_hours: float
) -> ActionRecord | None:
    """Claim ``action`` for this request: None if it is ours to run now, else the
    record that says it ran (``done``) or is running (``pending``) elsewhere."""
    if not ACTION_ID.match(action):
        raise ReplayRefused("the action id is not valid")
    kv = await _bucket(bus, max_age_hours)
    key = _key(visitor, action)
    claim = msgspec.json.encode(ActionRecord(state="pending"))
    try:
        await kv.create(key, claim)
        return None
    except nats.js.errors.KeyWrongLastSequenceError:
        pass
    entry = await kv.get(key)
    record = msgspec.json.decode(entry.value or b"{}", type=ActionRecord)
    stale = (utcnow() - record.claimed).total_seconds() > PENDING_SECONDS
    if record.state == "pending" and stale:
        try:
            await kv.update(key, claim, last=entry.revision)
            return None
        except nats.js.errors.KeyWrongLastSequenceError:
            pass  # another replay took it over just now
    return record


async def finish_action(
    bus: Bus, visitor: str, action: str, status: int, *, max_age_hours: float
) -> None:
    """Mark a claimed action done (it was judged: stored, or refused for good), or
    release the claim after a failure that a later replay may overcome (5xx)."""
    kv = await _bucket(bus, max_age_hours)
    key = _key(visitor, action)
    if status >= 500 or status in (409, 429):
        # Not judged (the server or NATS failed, a conflict, a rate limit): the phone
        # keeps the action and tries again later.
        await kv.delete(key)
        return
    await kv.put(key, msgspec.json.encode(ActionRecord(state="done", status=status)))


def media_for_language(
    config: Any, lang: str, names: frozenset[str], languages: list[str]
) -> set[str]:
    """The media files a plugin's tour config refers to, in ``lang``: a value that is a
    stored file's name, where a mapping keyed by language counts for ``lang`` only.

    No plugin has to list its files for offline use: the config already names them
    (``audio = {ru = "audio/x.ru.mp3", en = ...}``), and a transcript ``.vtt`` beside
    an audio file comes with it."""
    found: set[str] = set()
    codes = set(languages)

    def walk(value: Any) -> None:
        if isinstance(value, str):
            if value in names:
                found.add(value)
                stem = value.rsplit(".", 1)[0]
                if f"{stem}.vtt" in names:
                    found.add(f"{stem}.vtt")
        elif isinstance(value, dict):
            keys = set(value)
            if keys and keys <= codes and all(isinstance(v, str) for v in value.values()):
                if lang in value:
                    walk(value[lang])
                return
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        elif isinstance(value, msgspec.Struct):
            walk(msgspec.to_builtins(value))

    walk(config)
    return found


def tour_pages(tour: Tour) -> list[str]:
    """The visitor pages of a tour that a saved copy holds (station pages as their
    saved copies: a station page otherwise opens only after a check-in)."""
    base = f"/t/{tour.enterprise}/{tour.id}"
    # Not the finish page: opening it finishes the tour.
    pages = [base, f"{base}/offline"]
    pages += [f"{base}/saved/{s.id}" for s in tour.enabled_stations]
    return pages
