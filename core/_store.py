"""A plugin's own key-value store: a JetStream KV bucket handed to it by the core.

Values are msgspec Structs (or anything msgspec encodes) stored as JSON. The store
covers what plugins need, once, so that no plugin talks to nats-py's KV itself:

- versioned reads and writes (:meth:`PluginStore.read`, :meth:`PluginStore.replace`)
  and a read-modify-write that retries with back-off (:meth:`PluginStore.update`);
- a time-to-live per record (``ttl=`` seconds): the server removes it by itself;
- personal records (``create(..., ttl=, personal=True)``) that expire by erasure: an
  index key ``_expires.<due>.<revision>.<key>`` is written beside the record, and the
  platform's sweeper (:mod:`promtour._expiry`) erases the record when it is due with
  :meth:`PluginStore.erase_due`; the server's own TTL comes :data:`EXPIRY_BACKSTOP`
  later, as a backstop only (a server expiry does not overwrite the bytes);
- erasure (:meth:`PluginStore.erase`): the record's stored messages are overwritten on
  disk by the server (a secure delete), then the key is purged, so personal data is
  gone from the files, not only from reads;
- a tour-scoped view (:meth:`PluginStore.for_tour`, ``ctx.tour_store``) whose keys the
  core erases when the plugin is disabled for the tour or the tour is deleted;
- records that change rarely but are read on every scan, held in each process and kept
  current by a KV watch (:meth:`PluginStore.watched`, :mod:`promtour._watched`).

NATS away: every call raises :class:`promtour._bus.BusUnavailable` (the page says
"try again"); an update that loses every retry raises :class:`promtour._bus.Conflict`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import msgspec
import nats.errors
import nats.js.errors
from nats.js.kv import KeyValue
from promtour._bus import (
    Bus,
    BusUnavailable,
    Conflict,
    read,
    unavailable_as_bus_error,
    update_with_retry,
)
from promtour._watched import WatchedKeys, watched_keys

__all__ = [
    "EXPIRY_BACKSTOP",
    "EXPIRY_PREFIX",
    "PluginStore",
    "Versioned",
    "bucket_name",
    "expiry_key",
    "parse_expiry_key",
    "tour_prefix",
]

T = TypeVar("T")

#: Seconds a purge marker of an erased record stays (the least NATS accepts is 1).
PURGE_MARKER_TTL = 2.0
#: JetStream's error code for a message delete on a stream with ``deny_delete``.
MESSAGE_DELETE_DENIED = 10057

#: Keys of the expiry index of personal records (in the bucket's root, never in a
#: tour-scoped view, and left out of :meth:`PluginStore.keys`).
EXPIRY_PREFIX = "_expires."
#: Seconds after a personal record's due time at which the server removes it by itself
#: (its TTL): only if no promtour process swept the bucket for that long, since a
#: server expiry leaves the bytes in the block file. An hour covers a restart, an
#: upgrade or a short outage of every process.
EXPIRY_BACKSTOP = 3600.0

log = logging.getLogger("promtour._store")


def bucket_name(plugin: str) -> str:
    return "PROMTOUR_P_" + plugin.upper().replace("-", "_")


def tour_prefix(tour_key: str) -> str:
    """The key prefix of a tour's records in a plugin's store (``tour.<ent>.<tour>.``)."""
    return f"tour.{tour_key}."


def expiry_key(due: int, revision: int, key: str) -> str:
    """The index key of the personal record ``key`` (its full key in the bucket) stored
    at ``revision`` and to be erased at ``due`` (Unix seconds).

    The revision is part of it so that the sweep erases that record and not a later
    one under the same key (which has an index key of its own if it is personal)."""
    return f"{EXPIRY_PREFIX}{due}.{revision}.{key}"


def parse_expiry_key(index: str) -> tuple[int, int, str] | None:
    """``(due, revision, key)`` of an index key; None if it is not one."""
    if not index.startswith(EXPIRY_PREFIX):
        return None
    due, _, rest = index[len(EXPIRY_PREFIX) :].partition(".")
    revision, _, key = rest.partition(".")
    if not (due.isdigit() and revision.isdigit() and key):
        return None
    return int(due), int(revision), key


class Versioned(msgspec.Struct, Generic[T]):
    """A value with the revision it was read at (``None``, ``None`` when absent)."""

    value: T | None
    revision: int | None


def _ttl(ttl: float | None) -> float | None:
    return None if ttl is None else max(1.0, float(int(ttl)))


class PluginStore:
    """The namespaced store of one plugin. Keys may contain ``[A-Za-z0-9_=.-/]``."""

    def __init__(self, bus: Bus, plugin: str, *, prefix: str = "", history: int = 1) -> None:
        self._bus = bus
        self.plugin = plugin
        self.name = bucket_name(plugin)
        #: Prepended to every key (a tour-scoped store); empty for the whole store.
        self.prefix = prefix
        self._history = history
        # ctx.tour_store is asked for several times per scan: one view per tour.
        self._tours: dict[str, PluginStore] = {}

    def for_tour(self, tour_key: str) -> PluginStore:
        """The records of one tour (``<enterprise>.<tour>``), erased with the tour."""
        view = self._tours.get(tour_key)
        if view is None:
            view = self._tours[tour_key] = PluginStore(
                self._bus, self.plugin, prefix=self.prefix + tour_prefix(tour_key), history=1
            )
        return view

    def watched(self, prefix: str) -> WatchedKeys:
        """The records under ``prefix`` (ending in ``.``), held in this process and kept
        current by a KV watch: ``await store.watched("route.").get(id, Route)`` reads
        from memory. For records that are few, not personal, and read far more often
        than written (see :mod:`promtour._watched` for how current they are)."""
        return watched_keys(self._bus, self.name, self.prefix + prefix, history=self._history)

    def _written(self, full: str, revision: int, data: bytes) -> None:
        """Hand a write of this process to the watched views that hold ``full``."""
        for (bucket, prefix), watch in self._bus.watches.items():
            if bucket == self.name and full.startswith(prefix) and isinstance(watch, WatchedKeys):
                watch.written(full[len(prefix) :], revision, data)

    async def _kv(self) -> KeyValue:
        with unavailable_as_bus_error():
            return await self._bus.bucket(self.name, history=self._history)

    async def get(self, key: str, type_: type[T]) -> T | None:
        return (await self.read(key, type_)).value

    async def read(self, key: str, type_: type[T]) -> Versioned[T]:
        """The value and its revision, to write back with :meth:`replace`."""
        value, revision = await read(
            await self._kv(), self.prefix + key, msgspec.json.Decoder(type_)
        )
        return Versioned(value, revision)

    async def put(self, key: str, value: object, *, ttl: float | None = None) -> int:
        """Store ``value`` whatever is there; returns the new revision."""
        kv = await self._kv()
        data = msgspec.json.encode(value)
        with unavailable_as_bus_error():
            if ttl is None:
                revision = await kv.put(self.prefix + key, data)
            else:
                # nats-py's put() takes no TTL, and its _update() always sends an expected
                # revision (0 when none: "create"), which fails on a key that exists; so
                # the plain publish a put() is, with the TTL header.
                ack = await kv._js.publish(f"{kv._pre}{self.prefix + key}", data, msg_ttl=_ttl(ttl))
                revision = ack.seq
        self._written(self.prefix + key, revision, data)
        return revision

    async def create(
        self, key: str, value: object, *, ttl: float | None = None, personal: bool = False
    ) -> bool:
        """Store ``value`` unless ``key`` exists; True if this call stored it.

        ``personal=True`` (needs ``ttl``) for personal data: the record is erased when
        its time is up (its bytes overwritten on the server's disk, as by
        :meth:`erase`), within one sweep interval (``nats.expiry_sweep_seconds``) after
        ``ttl``; without it the server drops the record and its bytes stay on disk."""
        if personal and ttl is None:
            raise ValueError("a personal record needs a ttl (when to erase it)")
        kv = await self._kv()
        full = self.prefix + key
        server_ttl = _ttl(ttl)
        if personal and server_ttl is not None:
            due = math.ceil(time.time() + server_ttl)
            server_ttl += EXPIRY_BACKSTOP  # the sweep erases it first; this is a backstop
        data = msgspec.json.encode(value)
        with unavailable_as_bus_error():
            try:
                revision = await kv.create(full, data, msg_ttl=server_ttl)
            except nats.js.errors.KeyWrongLastSequenceError:
                return False
            if personal and server_ttl is not None:
                # After the record, since the index names its revision. Should this
                # write fail, the record still goes at the backstop (not erased).
                await kv._js.publish(
                    f"{kv._pre}{expiry_key(due, revision, full)}", b"", msg_ttl=server_ttl
                )
        self._written(full, revision, data)
        return True

    async def replace(
        self, key: str, value: object, revision: int | None, *, ttl: float | None = None
    ) -> int:
        """Write ``value`` if ``key`` is still at ``revision`` (``None``: absent);
        raises :class:`Conflict` if someone wrote it meanwhile."""
        kv = await self._kv()
        data = msgspec.json.encode(value)
        with unavailable_as_bus_error():
            try:
                if revision is None:  # create() also re-creates a deleted key
                    stored = await kv.create(self.prefix + key, data, msg_ttl=_ttl(ttl))
                else:
                    # nats-py's update() takes no TTL; its internal write does (same request).
                    stored = await kv._update(
                        self.prefix + key, data, last=revision, msg_ttl=_ttl(ttl)
                    )
            except nats.js.errors.KeyWrongLastSequenceError:
                raise Conflict(f"{key!r} was changed meanwhile") from None
        self._written(self.prefix + key, stored, data)
        return stored

    async def update(
        self,
        key: str,
        type_: type[T],
        change: Callable[[T | None], T | Awaitable[T]],
        *,
        ttl: float | None = None,
        current: Versioned[T] | None = None,
    ) -> T:
        """Read-modify-write with optimistic concurrency; ``change`` may be called again
        (with the fresh value) when another writer got there first, after a random,
        growing wait (many writers of one record take turns). ``current``: what
        :meth:`read` just returned for ``key``, to save the first read."""
        first = (current.value, current.revision) if current is not None else None
        value, revision = await update_with_retry(
            await self._kv(), self.prefix + key, type_, change, ttl=ttl, first=first
        )
        if self._bus.watches:
            self._written(self.prefix + key, revision, msgspec.json.encode(value))
        return value

    async def delete(self, key: str) -> None:
        kv = await self._kv()
        await kv.delete(self.prefix + key)

    async def purge(self, key: str) -> None:
        """Remove ``key`` and its whole history from reads (see :meth:`erase` for
        personal data)."""
        kv = await self._kv()
        await kv.purge(self.prefix + key)

    async def erase(self, key: str) -> bool:
        """Remove ``key`` so that its bytes are gone from the server's files: each stored
        message of the key is securely deleted (overwritten by the server), then the key
        is purged with a marker that expires too. True if there was something.

        Write personal data once (:meth:`create`) and erase it, never overwrite it: a
        version that the bucket's history limit drops on a later write is removed by the
        server without being overwritten, so its bytes stay in the block file until
        JetStream compacts it."""
        return await self._erase_full(self.prefix + key)

    async def _erase_full(self, full: str) -> bool:
        """:meth:`erase` of a key of the bucket (not of this view)."""
        kv = await self._kv()
        entries = await self._versions(kv, full)
        stream = f"KV_{self.name}"
        found = any(entry.value for entry in entries)
        for entry in entries:
            if entry.revision is not None:
                await self._erase_message(stream, entry.revision)
        try:
            await kv.purge(full, msg_ttl=PURGE_MARKER_TTL)
        except (nats.js.errors.APIError, nats.errors.Error):
            await kv.purge(full)  # a bucket without per-message TTL: the marker stays
        return found

    @staticmethod
    async def _versions(kv: KeyValue, full: str) -> list[KeyValue.Entry]:
        """Every stored version of ``full``. nats-py's ``history`` can come back empty
        when its watch's first message arrives just after the consumer's info (a race
        of its "nothing pending" marker): a key that has a value is asked again, so an
        erasure never skips stored bytes."""
        for _ in range(5):
            try:
                return list(await kv.history(full))
            except (nats.js.errors.NoKeysError, nats.js.errors.KeyNotFoundError):
                pass
            try:
                await kv.get(full)
            except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
                return []
            await asyncio.sleep(0.05)
        raise BusUnavailable(f"the history of {full} could not be read")

    async def _erase_message(self, stream: str, seq: int) -> None:
        """Securely delete one stored message (the server overwrites it on disk)."""
        try:
            # The server's default for a message delete is a secure erase.
            await self._bus.js.delete_msg(stream, seq)
        except nats.js.errors.NotFoundError:
            pass
        except nats.js.errors.APIError as exc:
            if exc.err_code != MESSAGE_DELETE_DENIED:
                raise
            # A bucket created before promtour allowed message deletes (nats-py's
            # default): the purge that follows hides the record from reads, but its
            # bytes stay until compaction. docs/security.md says how to re-create it.
            log.warning(
                "%s: the bucket denies message deletes; message %d only purged", stream, seq
            )

    async def keys(self, prefix: str = "") -> list[str]:
        """Live keys under ``prefix``, sorted, without this store's own prefix (end
        ``prefix`` with ``.`` to let the server do the filtering). The expiry index of
        personal records is not listed."""
        await self._kv()  # the bucket exists, with this store's settings
        keys = await self._bus.keys(self.name, self.prefix + prefix)
        return [k[len(self.prefix) :] for k in keys if not k.startswith(EXPIRY_PREFIX)]

    async def erase_due(self, now: float | None = None) -> int:
        """Erase the personal records of the whole bucket whose time is up (at ``now``,
        Unix seconds); returns how many index entries were handled.

        The platform calls this for every plugin's bucket once a sweep interval
        (:mod:`promtour._expiry`); plugins need not. Idempotent: several processes may
        sweep the same bucket at once."""
        now = time.time() if now is None else now
        kv = await self._kv()
        stream = f"KV_{self.name}"
        base = f"$KV.{self.name}."
        with unavailable_as_bus_error():
            # One request for the whole index: its subjects, filtered by the server.
            info = await self._bus.js.stream_info(stream, subjects_filter=f"{base}{EXPIRY_PREFIX}>")
        done = 0
        for subject in sorted(info.state.subjects or {}):
            parsed = parse_expiry_key(subject[len(base) :])
            if parsed is None or parsed[0] > now:
                continue
            _, revision, key = parsed
            try:
                latest = await kv.get(key)
            except nats.js.errors.KeyNotFoundError:
                latest = None
            if latest is not None and latest.revision == revision:
                await self._erase_full(key)
            else:  # erased, expired or written again since: that message only, if left
                await self._erase_message(stream, revision)
            await self._bus.js.purge_stream(stream, subject=subject)
            done += 1
        return done

    async def erase_all(self, prefix: str = "") -> int:
        """Erase every key under ``prefix``; returns how many there were."""
        keys = await self.keys(prefix)
        for key in keys:
            await self.erase(key)
        return len(keys)
