"""Phones on a group's show page now, per language, without a write per phone.

A show stream names a presence key (``audio_guide.<tour>.<CODE>.<lang>``) and the live
hub counts the streams open under it in this process, in memory (issue 17, defect 2:
a record written per joining phone made a class's burst of joins fail with write
conflicts). A phone that closes the page is uncounted when its stream ends (defect 3).

Several worker processes: each process that holds phones of a group keeps a small
heartbeat record ``presence.<CODE>.<process>`` (its counts, rewritten every
:data:`BEAT` seconds, expiring after :data:`STALE`), and the count a guide sees is this
process's live count plus the fresh records of the others. A process that dies stops
counting at most :data:`STALE` seconds later; another process's change shows within
:data:`BEAT` seconds. With one worker the records are written but never needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections import Counter
from datetime import datetime, timedelta

import msgspec
from promtour.plugin import PluginStore, RequestContext, StoreUnavailable, live_presence, utcnow

__all__ = ["BEAT", "STALE", "counts", "key_for", "watch"]

log = logging.getLogger("promtour.plugins.audio_guide")

#: Seconds between a process's heartbeat records of a group's phones.
BEAT = 5.0
#: A heartbeat older than this is a process that stopped (its record also expires).
STALE = 15.0

_process: tuple[int, str] | None = None
#: Groups whose heartbeat runs in this process, by tour key and code.
_beating: dict[tuple[str, str], asyncio.Task[None]] = {}


class Heartbeat(msgspec.Struct, kw_only=True):
    counts: dict[str, int]
    at: datetime


def process_id() -> str:
    """This process (a new id in a forked worker: the pid is part of the check)."""
    global _process
    if _process is None or _process[0] != os.getpid():
        _process = (os.getpid(), f"{os.getpid()}-{secrets.token_hex(3)}")
    return _process[1]


def _prefix(tour_key: str, code: str) -> str:
    return f"audio_guide.{tour_key}.{code}."


def key_for(tour_key: str, code: str, lang: str) -> str:
    """The presence key of a phone's show stream."""
    return _prefix(tour_key, code) + lang


def _record(code: str, process: str) -> str:
    return f"presence.{code}.{process}"


async def counts(
    pt: RequestContext, store: PluginStore, tour_key: str, code: str
) -> dict[str, int]:
    """Phones connected to a group now, per language: this process's open streams plus
    the other processes' fresh heartbeats."""
    total: Counter[str] = Counter(live_presence(pt, _prefix(tour_key, code)))
    own = _record(code, process_id())
    oldest = utcnow() - timedelta(seconds=STALE)
    for key in await store.keys(f"presence.{code}."):
        if key == own:
            continue
        beat = await store.get(key, Heartbeat)
        if beat is not None and beat.at >= oldest:
            total.update(beat.counts)
    return {lang: n for lang, n in sorted(total.items()) if n > 0}


def watch(pt: RequestContext, store: PluginStore, tour_key: str, code: str) -> None:
    """Keep this process's heartbeat of ``code`` while it has phones of the group."""
    slot = (tour_key, code)
    task = _beating.get(slot)
    if task is not None and not task.done():
        return
    # The task keeps the platform, not the request: only ``live_presence`` reads it.
    _beating[slot] = asyncio.create_task(
        _beat(pt, store, tour_key, code), name=f"audio-guide-presence-{code}"
    )


async def _beat(pt: RequestContext, store: PluginStore, tour_key: str, code: str) -> None:
    record = _record(code, process_id())
    prefix = _prefix(tour_key, code)
    try:
        while True:
            # Let the stream that started this register first.
            await asyncio.sleep(0.5)
            now = live_presence(pt, prefix)
            try:
                if not now:
                    await store.delete(record)
                    return
                beat = Heartbeat(counts=now, at=utcnow())
                await store.put(record, beat, ttl=STALE)
            except (TimeoutError, StoreUnavailable):
                log.warning("group %s: presence heartbeat not written", code)
            except Exception:
                log.exception("group %s: presence heartbeat failed", code)
                return
            await asyncio.sleep(BEAT - 0.5)
    finally:
        with contextlib.suppress(KeyError):
            if _beating[(tour_key, code)] is asyncio.current_task():
                del _beating[(tour_key, code)]
