"""Tour media: type and size checks on upload, the list with sizes, and where each
file is used.

Files live in the NATS object store under ``<enterprise>/<tour>/<name>`` and are
served to visitors by ``/media/...``. The checks themselves (allow-list, sniffing,
size, name rules) are :mod:`promtour.media`, shared with ``promtour tours import``;
the names are re-exported here for the callers that import them from the console.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import nats.js.errors
from promtour.media import (
    MAX_IMAGE_BYTES,
    MAX_TEXT_BYTES,
    MEDIA_TYPES,
    MediaError,
    check_media,
    clean_name,
    media_suffix,
)
from promtour.models import Tour
from promtour.platform import Platform
from promtour.tours import media_name

__all__ = [
    "MAX_IMAGE_BYTES",
    "MAX_TEXT_BYTES",
    "MEDIA_TYPES",
    "MediaError",
    "MediaItem",
    "check_media",
    "clean_name",
    "delete_media",
    "list_media",
    "upload_media",
    "where_used",
]


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


async def list_media(platform: Platform, tour: Tour) -> list[MediaItem]:
    prefix = media_name(tour, "")
    try:
        infos = await platform.bus.media.list(ignore_deletes=True)
    except nats.js.errors.NotFoundError:
        return []
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
                used_in=where_used(tour, name),
            )
        )
    return sorted(items, key=lambda i: i.name)


async def delete_media(platform: Platform, tour: Tour, name: str) -> None:
    """Delete a file; refused while the tour uses it (nothing a visitor needs is lost)."""
    used = where_used(tour, name)
    if used:
        raise MediaError(f"{name} is still used by {', '.join(used)}: change that first")
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
