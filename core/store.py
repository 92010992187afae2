"""A plugin's own key-value store: a JetStream KV bucket handed to it by the core.

Values are msgspec Structs (or anything msgspec encodes) stored as JSON. Writes that
race use :meth:`PluginStore.update`, which retries on a concurrent change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import msgspec
import nats.js.errors
from nats.js.kv import KeyValue
from promtour.bus import Bus, update_with_retry

__all__ = ["PluginStore", "bucket_name"]

T = TypeVar("T")


def bucket_name(plugin: str) -> str:
    return "PROMTOUR_P_" + plugin.upper().replace("-", "_")


class PluginStore:
    """The namespaced store of one plugin. Keys may contain ``[A-Za-z0-9_=.-/]``."""

    def __init__(self, bus: Bus, plugin: str, *, history: int = 1) -> None:
        self._bus = bus
        self.plugin = plugin
        self.name = bucket_name(plugin)
        self._history = history

    async def kv(self) -> KeyValue:
        """The underlying nats-py KeyValue, for what this class does not wrap."""
        return await self._bus.bucket(self.name, history=self._history)

    async def get(self, key: str, type_: type[T]) -> T | None:
        kv = await self.kv()
        try:
            entry = await kv.get(key)
        except nats.js.errors.KeyNotFoundError:
            return None
        if not entry.value:
            return None
        return msgspec.json.decode(entry.value, type=type_)

    async def put(self, key: str, value: object) -> int:
        kv = await self.kv()
        return await kv.put(key, msgspec.json.encode(value))

    async def create(self, key: str, value: object) -> bool:
        """Store ``value`` unless ``key`` exists; True if this call stored it."""
        kv = await self.kv()
        try:
            await kv.create(key, msgspec.json.encode(value))
        except nats.js.errors.KeyWrongLastSequenceError:
            return False
        return True

    async def update(
        self, key: str, type_: type[T], change: Callable[[T | None], T | Awaitable[T]]
    ) -> T:
        """Read-modify-write with optimistic concurrency; ``change`` may be called again."""
        value, _ = await update_with_retry(await self.kv(), key, type_, change)
        return value

    async def delete(self, key: str) -> None:
        kv = await self.kv()
        await kv.delete(key)

    async def purge(self, key: str) -> None:
        """Remove ``key`` and its whole history."""
        kv = await self.kv()
        await kv.purge(key)

    async def keys(self, prefix: str = "") -> list[str]:
        """Live keys under ``prefix``, sorted (end the prefix with ``.`` to let the
        server do the filtering)."""
        await self.kv()  # the bucket exists, with this store's settings
        return await self._bus.keys(self.name, prefix)
