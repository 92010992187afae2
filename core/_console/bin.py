"""The console's bin: what one click removed, kept for some days to be restored.

- A plugin disabled for a tour keeps its settings here; enabling it again opens the
  form with them (and saving forgets the kept copy).
- A deleted station is kept with its place in the tour; «Восстановить» puts it back.

Entries live in one KV bucket whose messages expire after :data:`KEEP_DAYS` (the
server drops them; nothing to sweep). Keys are ``<enterprise>.<tour>.<kind>.<id>``.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
import nats.js.errors
from promtour._models import Station, Tour
from promtour._platform import Platform

__all__ = [
    "BUCKET_BIN",
    "KEEP_DAYS",
    "Binned",
    "deleted_stations",
    "forget_config",
    "forget_station",
    "keep_config",
    "keep_station",
    "kept_config",
    "take_station",
]

BUCKET_BIN = "PROMTOUR_CONSOLE_BIN"
#: How long a removed station or a disabled plugin's settings can be brought back.
KEEP_DAYS = 14


class Binned(msgspec.Struct, kw_only=True):
    kind: str
    id: str
    removed_at: float
    #: The station's index in the tour when it was deleted (to put it back there).
    position: int = -1
    data: Any = None


def _key(tour: Tour, kind: str, item: str) -> str:
    return f"{tour.enterprise}.{tour.id}.{kind}.{item}"


async def _kv(platform: Platform) -> Any:
    return await platform.bus.bucket(BUCKET_BIN, ttl=KEEP_DAYS * 86400.0)


async def _get(platform: Platform, key: str) -> Binned | None:
    kv = await _kv(platform)
    try:
        entry = await kv.get(key)
    except (
        nats.js.errors.KeyNotFoundError,
        nats.js.errors.KeyDeletedError,
        nats.js.errors.InvalidKeyError,  # an id no station can have: nothing binned
    ):
        return None
    return msgspec.json.decode(entry.value, type=Binned) if entry.value else None


async def _put(platform: Platform, key: str, item: Binned) -> None:
    await (await _kv(platform)).put(key, msgspec.json.encode(item))


async def _drop(platform: Platform, key: str) -> None:
    try:
        await (await _kv(platform)).purge(key)
    except nats.js.errors.KeyNotFoundError:
        pass


async def keep_config(platform: Platform, tour: Tour, plugin: str, raw: dict[str, Any]) -> None:
    await _put(
        platform,
        _key(tour, "plugin", plugin),
        Binned(kind="plugin", id=plugin, removed_at=time.time(), data=raw),
    )


async def kept_config(platform: Platform, tour: Tour, plugin: str) -> dict[str, Any] | None:
    item = await _get(platform, _key(tour, "plugin", plugin))
    return item.data if item is not None and isinstance(item.data, dict) else None


async def forget_config(platform: Platform, tour: Tour, plugin: str) -> None:
    await _drop(platform, _key(tour, "plugin", plugin))


async def keep_station(platform: Platform, tour: Tour, station: Station, position: int) -> None:
    await _put(
        platform,
        _key(tour, "station", station.id),
        Binned(
            kind="station",
            id=station.id,
            removed_at=time.time(),
            position=position,
            data=msgspec.to_builtins(station),
        ),
    )


async def deleted_stations(platform: Platform, tour: Tour) -> list[tuple[Station, float]]:
    """The tour's deleted stations that can still be restored, newest first."""
    prefix = _key(tour, "station", "")
    found = []
    for key in await platform.bus.keys(BUCKET_BIN, prefix):
        item = await _get(platform, key)
        if item is not None and tour.station(item.id) is None:
            found.append((msgspec.convert(item.data, Station), item.removed_at))
    return sorted(found, key=lambda x: -x[1])


async def take_station(platform: Platform, tour: Tour, station_id: str) -> tuple[Station, int]:
    """A deleted station and its old position (removed from the bin by the caller with
    :func:`forget_station` once it is back)."""
    item = await _get(platform, _key(tour, "station", station_id))
    if item is None:
        raise KeyError(station_id)
    return msgspec.convert(item.data, Station), item.position


async def forget_station(platform: Platform, tour: Tour, station_id: str) -> None:
    await _drop(platform, _key(tour, "station", station_id))
