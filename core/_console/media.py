"""Tour media: type and size checks on upload, the list with sizes, and where each
file is used.

Files live in the NATS object store under ``<enterprise>/<tour>/<name>`` and are
served to visitors by ``/media/...``. The checks themselves (allow-list, sniffing,
size, name rules) are :mod:`promtour._media`, shared with ``promtour tours import``;
the names are re-exported here for the callers that import them from the console.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import nats.js.errors
from promtour._errors import ConfigError
from promtour._fields import Problem
from promtour._media import (
    MAX_IMAGE_BYTES,
    MAX_TEXT_BYTES,
    MEDIA_TYPES,
    MediaError,
    check_media,
    clean_name,
    media_suffix,
)
from promtour._models import Tour
from promtour._platform import Platform
from promtour._tours import media_name

__all__ = [
    "MAX_IMAGE_BYTES",
    "MAX_TEXT_BYTES",
    "MEDIA_TYPES",
    "MediaError",
    "MediaInUse",
    "MediaItem",
    "check_media",
    "clean_name",
    "delete_media",
    "list_media",
    "needed_by",
    "upload_media",
    "used_by",
    "where_used",
]


class MediaInUse(MediaError):
    """The file is used by the tour; deleting it would break the tour."""


class MediaItem(msgspec.Struct, kw_only=True):
    name: str
    size: int
    content_type: str
    #: Where the tour's plugin configs mention the file (``plugin.key.path``).
    used_in: list[str] = msgspec.field(default_factory=list)


async def upload_media(platform: Platform, tour: Tour, name: str, data: bytes) -> MediaItem:
    name = clean_name(name)
    content_type = check_media(name, data)
    await platform.bus.media.put(media_name(tour, name), data)
    return MediaItem(name=name, size=len(data), content_type=content_type)


def _problems(platform: Platform, tour: Tour, media: frozenset[str]) -> set[str]:
    """Every plugin's check of the tour against this set of files, as
    ``plugin.path: message`` lines (a config that does not convert counts as none:
    that is not a media question)."""
    found: set[str] = set()
    for plugin in tour.plugins:
        check = platform.plugins.impl_of("promtour_validate_config", plugin)
        if check is None:
            continue
        try:
            config = platform.plugins.convert_config(plugin, tour.plugins[plugin])
        except ConfigError:
            continue
        for problem in check(tour=tour, config=config, media=media) or ():
            path = problem.path if isinstance(problem, Problem) else ""
            found.add(f"{plugin}.{path}" if path else f"{plugin}: {problem}")
    return found


def needed_by(platform: Platform, tour: Tour, name: str, media: frozenset[str]) -> list[str]:
    """What would break if ``name`` were gone: the plugins are asked (their own check
    of the tour, as on every save) with and without the file. This counts what a
    plain reference search cannot see, e.g. ``audio/x.ru.vtt``, the transcript the
    audio guide requires beside ``audio/x.mp3``."""
    if name not in media:
        return []
    before = _problems(platform, tour, media)
    return sorted(_problems(platform, tour, media - {name}) - before)


def used_by(platform: Platform, tour: Tour, name: str, media: frozenset[str]) -> list[str]:
    """Every reason the file is in use: named in a config, or needed by a plugin."""
    named = where_used(tour, name)
    return named + [w for w in needed_by(platform, tour, name, media) if w not in named]


async def list_media(platform: Platform, tour: Tour) -> list[MediaItem]:
    prefix = media_name(tour, "")
    try:
        infos = await platform.bus.media.list(ignore_deletes=True)
    except nats.js.errors.NotFoundError:
        return []
    names = frozenset(
        i.name[len(prefix) :] for i in infos if i.name.startswith(prefix) and not i.deleted
    )
    items = []
    for info in infos:
        if not info.name.startswith(prefix) or info.deleted:
            continue
        name = info.name[len(prefix) :]
        kind = MEDIA_TYPES.get(media_suffix(name))
        items.append(
            MediaItem(
                name=name,
                size=info.size or 0,
                content_type=kind[0] if kind else "application/octet-stream",
                used_in=used_by(platform, tour, name, names),
            )
        )
    return sorted(items, key=lambda i: i.name)


async def delete_media(platform: Platform, tour: Tour, name: str) -> None:
    """Delete a file; refused while the tour uses it, so that nothing a visitor needs is
    lost and the tour can still be saved afterwards."""
    used = used_by(platform, tour, name, await platform.media_names(tour))
    if used:
        raise MediaInUse(f"{name} is still used by {', '.join(used)}: change that first")
    try:
        await platform.bus.media.delete(media_name(tour, name))
    except (nats.js.errors.NotFoundError, nats.js.errors.ObjectNotFoundError):
        raise MediaError(f"there is no file {name!r}") from None


def where_used(tour: Tour, name: str) -> list[str]:
    """Config paths (``plugin.key[0].audio``) whose value names the file."""
    return [where for where, value in _strings(tour.plugins, "") if _names_file(value, name)]


def _names_file(value: str, name: str) -> bool:
    value = value.strip().lstrip("/")
    return value == name or value.endswith("/" + name)


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{where}[{index}]")
