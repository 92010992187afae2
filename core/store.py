"""A plugin's own key-value store: a JetStream KV bucket handed to it by the core.

Values are msgspec Structs (or anything msgspec encodes) stored as JSON. The store
covers what plugins need, once, so that no plugin talks to nats-py's KV itself:

- versioned reads and writes (:meth:`PluginStore.read`, :meth:`PluginStore.replace`)
  and a read-modify-write that retries with back-off (:meth:`PluginStore.update`);
- a time-to-live per record (``ttl=`` seconds): the server removes it by itself;
- erasure (:meth:`PluginStore.erase`): the record's stored messages are overwritten on
  disk by the server (a secure delete), then the key is purged, so personal data is
  gone from the files, not only from reads;
- a tour-scoped view (:meth:`PluginStore.for_tour`, ``ctx.tour_store``) whose keys the
  core erases when the plugin is disabled for the tour or the tour is deleted.

NATS away: every call raises :class:`promtour.bus.BusUnavailable` (the page says
"try again"); an update that loses every retry raises :class:`promtour.bus.Conflict`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import msgspec
import nats.errors
import nats.js.errors
from nats.js.kv import KeyValue
from promtour.bus import Bus, BusUnavailable, Conflict, is_unavailable, read, update_with_retry

__all__ = ["PluginStore", "Versioned", "bucket_name", "tour_prefix"]

T = TypeVar("T")

#: Seconds a purge marker of an erased record stays (the least NATS accepts is 1).
PURGE_MARKER_TTL = 2.0
#: JetStream's error code for a message delete on a stream with ``deny_delete``.
MESSAGE_DELETE_DENIED = 10057

log = logging.getLogger("promtour.store")


def bucket_name(plugin: str) -> str:
    return "PROMTOUR_P_" + plugin.upper().replace("-", "_")


def tour_prefix(tour_key: str) -> str:
    """The key prefix of a tour's records in a plugin's store (``tour.<ent>.<tour>.``)."""
    return f"tour.{tour_key}."


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

    def for_tour(self, tour_key: str) -> PluginStore:
        """The records of one tour (``<enterprise>.<tour>``), erased with the tour."""
        return PluginStore(
            self._bus, self.plugin, prefix=self.prefix + tour_prefix(tour_key), history=1
        )

    async def _kv(self) -> KeyValue:
        try:
            return await self._bus.bucket(self.name, history=self._history)
        except Exception as exc:
            if is_unavailable(exc):
                raise BusUnavailable(str(exc) or type(exc).__name__) from exc
            raise

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
        try:
            if ttl is None:
                return await kv.put(self.prefix + key, data)
            # nats-py's put() takes no TTL, and its _update() always sends an expected
            # revision (0 when none: "create"), which fails on a key that exists; so the
            # plain publish a put() is, with the TTL header.
            ack = await kv._js.publish(f"{kv._pre}{self.prefix + key}", data, msg_ttl=_ttl(ttl))
            return ack.seq
        except Exception as exc:
            if is_unavailable(exc):
                raise BusUnavailable(str(exc) or type(exc).__name__) from exc
            raise

    async def create(self, key: str, value: object, *, ttl: float | None = None) -> bool:
        """Store ``value`` unless ``key`` exists; True if this call stored it."""
        kv = await self._kv()
        try:
            await kv.create(self.prefix + key, msgspec.json.encode(value), msg_ttl=_ttl(ttl))
        except nats.js.errors.KeyWrongLastSequenceError:
            return False
        except Exception as exc:
            if is_unavailable(exc):
                raise BusUnavailable(str(exc) or type(exc).__name__) from exc
            raise
        return True

    async def replace(
        self, key: str, value: object, revision: int | None, *, ttl: float | None = None
    ) -> int:
        """Write ``value`` if ``key`` is still at ``revision`` (``None``: absent);
        raises :class:`Conflict` if someone wrote it meanwhile."""
        kv = await self._kv()
        data = msgspec.json.encode(value)
        try:
            if revision is None:  # create() also re-creates a deleted key
                return await kv.create(self.prefix + key, data, msg_ttl=_ttl(ttl))
            # nats-py's update() takes no TTL; its internal write does (same request).
            return await kv._update(self.prefix + key, data, last=revision, msg_ttl=_ttl(ttl))
        except nats.js.errors.KeyWrongLastSequenceError:
            raise Conflict(f"{key!r} was changed meanwhile") from None
        except Exception as exc:
            if is_unavailable(exc):
                raise BusUnavailable(str(exc) or type(exc).__name__) from exc
            raise

    async def update(
        self,
        key: str,
        type_: type[T],
        change: Callable[[T | None], T | Awaitable[T]],
        *,
        ttl: float | None = None,
    ) -> T:
        """Read-modify-write with optimistic concurrency; ``change`` may be called again
        (with the fresh value) when another writer got there first, after a random,
        growing wait (many writers of one record take turns)."""
        value, _ = await update_with_retry(
            await self._kv(), self.prefix + key, type_, change, ttl=ttl
        )
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
        kv = await self._kv()
        full = self.prefix + key
        try:
            entries = await kv.history(full)
        except nats.js.errors.NoKeysError:
            entries = []
        except nats.js.errors.KeyNotFoundError:
            entries = []
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
        ``prefix`` with ``.`` to let the server do the filtering)."""
        await self._kv()  # the bucket exists, with this store's settings
        keys = await self._bus.keys(self.name, self.prefix + prefix)
        return [k[len(self.prefix) :] for k in keys]

    async def erase_all(self, prefix: str = "") -> int:
        """Erase every key under ``prefix``; returns how many there were."""
        keys = await self.keys(prefix)
        for key in keys:
            await self.erase(key)
        return len(keys)
